builtins.attrValues { b = 1; a = 2; }
