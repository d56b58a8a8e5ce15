builtins.getAttr "b" ({ a = 1; } // { c = 2; })
