# the first operand of `+` is a function: which error wins over the failing second one
let t = throw "second"; f = x: x + t; in f (y: y)
