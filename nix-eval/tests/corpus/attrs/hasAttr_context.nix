builtins.hasAttr "${(derivation { name = "c"; system = "x"; builder = "/b"; }).drvPath}" { }
