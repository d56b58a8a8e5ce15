builtins.fromJSON 1
