# nixrs-flags: --strict -A outPath
derivation { name = "fod"; system = "x86_64-linux"; builder = "/bin/sh"; outputHashAlgo = "sha256"; outputHashMode = "flat"; outputHash = "0000000000000000000000000000000000000000000000000000000000000000"; }
