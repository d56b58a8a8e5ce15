# nixrs-flags: --strict --show-trace
let g = a: b: a - b; in builtins.foldl' g 10 [ 1 "b" ]
