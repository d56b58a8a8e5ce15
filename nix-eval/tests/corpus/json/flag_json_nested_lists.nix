# nixrs-flags: --strict --json
[ [ [ ] ] { a = [ { } ]; } ]
