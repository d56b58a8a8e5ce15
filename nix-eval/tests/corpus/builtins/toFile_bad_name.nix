builtins.toFile "bad/name" "x"
