builtins.toFile "${(derivation { name = "c"; system = "x"; builder = "/b"; }).drvPath}" "x"
