builtins.toFile "t" "${./ctxfile.txt}"
