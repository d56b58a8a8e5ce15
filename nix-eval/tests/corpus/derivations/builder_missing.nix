# nixrs-flags: --strict -A drvPath
derivation { name = "x"; system = "x"; }
