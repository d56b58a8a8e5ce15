# nixrs-flags:
let f = n: if n + 1 == 2 then { v = n; } else { w = n; }; in [ (f (2 - 1)) (f (5 - 1)) ]
