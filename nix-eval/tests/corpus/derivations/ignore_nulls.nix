# nixrs-flags: --strict -A drvPath
derivation { name = "n"; system = "x86_64-linux"; builder = "/bin/sh"; __ignoreNulls = true; x = null; }
