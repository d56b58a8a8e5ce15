# nixrs-flags: --strict --xml
derivation { name = "j"; system = "x86_64-linux"; builder = "/bin/sh"; }
