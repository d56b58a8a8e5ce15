let at = xs: i: builtins.elemAt xs i; in at [ 1 ] 3
