# the second operand of `+` fails after the first is an integer
let t = throw "second"; f = x: x + t; in f 1
