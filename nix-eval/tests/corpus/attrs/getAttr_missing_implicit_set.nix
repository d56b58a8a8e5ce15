builtins.getAttr "b" { x.y = 1; }.x
