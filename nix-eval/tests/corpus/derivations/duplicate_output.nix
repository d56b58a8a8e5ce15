# nixrs-flags: --strict -A drvPath
derivation { name = "b"; system = "x"; builder = "/b"; outputs = [ "out" "out" ]; }
