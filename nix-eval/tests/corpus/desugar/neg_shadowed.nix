# `-x` is `__sub 0 x`.
let __sub = a: b: [ a b ]; in [ (-7) (- (1 + 1)) ]
