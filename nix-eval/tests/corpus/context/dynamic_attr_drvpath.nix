{ ${(derivation { name = "c"; system = "x"; builder = "/b"; }).drvPath} = 1; }
