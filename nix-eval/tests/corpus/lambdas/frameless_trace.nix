# nixrs-flags: --strict --show-trace
let g = x: x * 2; f = n: if n > 1 then 1 + f (n - 1) else g "s"; in f 3
