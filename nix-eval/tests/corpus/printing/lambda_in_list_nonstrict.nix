# nixrs-flags:
[ (x: x) { a = x: x; } ]
