# nixrs-flags: --strict --xml
[ [ 1 ] { } [ ] ]
