with builtins; [ (add 1 2) (sub 5 3) (mul 4 5) (div 9 2) (div 9.0 2) ]
