# nixrs-flags: --strict --json
derivation { name = "j"; system = "x86_64-linux"; builder = "/bin/sh"; }
