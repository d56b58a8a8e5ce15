builtins.attrNames { b = 1; a = 2; _c = 3; C = 4; "1" = 5; }
