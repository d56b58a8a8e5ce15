builtins.getAttr "b" (rec { a = 1; })
