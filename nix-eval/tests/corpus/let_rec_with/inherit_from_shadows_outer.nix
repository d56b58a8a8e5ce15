# The rec set's own `x` wins over the outer one in `inherit (x)`.
let x = { a = 1; }; in rec { x = { a = 2; }; inherit (x) a; }.a
