# nixrs-flags: 
[ [ (1 + 1) ] { a = 1; } ]
