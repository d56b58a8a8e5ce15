# nixrs-flags: --xml
[ (x: x) { a = y: y; } ]
