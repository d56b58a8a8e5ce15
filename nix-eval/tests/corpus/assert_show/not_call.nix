assert !(builtins.isInt 1); 1
