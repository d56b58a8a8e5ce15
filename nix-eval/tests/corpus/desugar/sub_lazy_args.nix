# The shadowing function receives its operands unevaluated.
let __sub = a: b: "lazy"; in 1 - (throw "never forced")
