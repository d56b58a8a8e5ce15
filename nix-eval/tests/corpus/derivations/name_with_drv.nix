# nixrs-flags: --strict -A drvPath
derivation { name = "x.drv"; system = "x"; builder = "/b"; }
