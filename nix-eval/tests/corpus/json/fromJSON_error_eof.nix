builtins.fromJSON "[1,"
