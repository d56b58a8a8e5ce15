# nixrs-flags: --strict --show-trace
derivation { system = "x"; builder = "/b"; }
