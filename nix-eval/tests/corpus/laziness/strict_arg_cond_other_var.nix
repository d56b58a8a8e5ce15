# nixrs-flags:
let b = true; f = n: if b then [ n ] else [ ]; in f (2 + 3)
