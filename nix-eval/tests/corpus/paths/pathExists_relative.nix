builtins.pathExists "x"
