builtins.hasContext "${./data.txt}"
