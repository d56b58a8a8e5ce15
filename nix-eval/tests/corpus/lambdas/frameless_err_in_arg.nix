# an error in the argument of a call inside a frameless body
let g = x: x * 2; f = n: if n > 0 then g (n / 0) else 0; in f 1
