builtins.getAttr "a" { a = 42; }
