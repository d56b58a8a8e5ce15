builtins.getAttr "b" { a = 42; }
