builtins.zipAttrsWith (n: v: n) [ { b = 1; } { a = 2; } ]
