# nixrs-flags:
let f = n: [ n ] ++ [ (n + 1) ]; in f (4 * 2)
