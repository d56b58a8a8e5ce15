builtins.toFile "x" 1
