# nixrs-flags: --strict --show-trace
let g = a: b: c: a + b + c "x"; in g 1 2 3
