# a simple body reading a binding of the enclosing `let`
let a = (x: x + b) 1; b = a; in a
