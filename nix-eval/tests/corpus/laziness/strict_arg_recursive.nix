# nixrs-flags:
let f = n: if n == 0 then { x = n; y = n - 1; } else f (n - 1); in f 3
