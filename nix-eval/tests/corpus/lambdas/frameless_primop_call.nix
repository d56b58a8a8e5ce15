let f = n: builtins.elemAt [ 1 2 ] n; g = x: builtins.substring 0 x "abcdef"; in [ (f 1) (g 3) (f 5) ]
