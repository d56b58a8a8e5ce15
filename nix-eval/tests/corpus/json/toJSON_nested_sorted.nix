builtins.toJSON { z = { b = 1; a = 2; }; a = [ { y = 1; x = 2; } ]; }
