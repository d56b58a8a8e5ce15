(derivation { name = "x"; system = "s"; builder = "/b"; }).type
