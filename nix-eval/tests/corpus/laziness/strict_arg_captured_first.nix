# nixrs-flags:
let g = n: [ n (n == 0) ]; in g (1 + 1)
