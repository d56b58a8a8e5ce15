let xs = [ 1 ] ++ map (x: x + 1) (builtins.genList (i: i) 2); in xs
