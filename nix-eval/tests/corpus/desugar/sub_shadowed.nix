# CppNix parses `a - b` as `__sub a b`: a let binding of `__sub` changes subtraction.
let __sub = a: b: 42; in [ (5 - 3) (10 - 1.5) ]
