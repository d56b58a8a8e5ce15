# nixrs-flags:
let a = 5; f = x: y: if y == 0 then [ x y ] else f (x + 1) (y - 1); in f (a - 1) (a - 3)
