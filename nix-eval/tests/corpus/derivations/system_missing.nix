# nixrs-flags: --strict -A drvPath
derivation { name = "x"; builder = "/b"; }
