builtins.zipAttrsWith (n: vs: vs) [ { a = 1; b = 2; } { a = 3; c = 4; } ]
