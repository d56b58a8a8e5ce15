let f = a: b: a * b; in builtins.foldl' f 1 [ 2 "x" ]
