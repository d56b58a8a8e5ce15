# nixrs-flags: --strict --show-trace
let f = x: x * 2; g = a: b: a - b; in [ (g 1 2) (f "a") ]
