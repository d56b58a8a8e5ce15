builtins.seq (x: x) 1
