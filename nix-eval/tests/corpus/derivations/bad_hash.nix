# nixrs-flags: --strict -A drvPath
derivation { name = "fod"; system = "x"; builder = "/b"; outputHashAlgo = "sha256"; outputHash = "xyz"; }
