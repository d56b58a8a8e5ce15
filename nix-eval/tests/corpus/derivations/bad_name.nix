# nixrs-flags: --strict -A drvPath
derivation { name = "a b"; system = "x"; builder = "/b"; }
