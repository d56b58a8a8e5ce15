# nixrs-flags: 
builtins.attrValues { a = 1 + 1; }
