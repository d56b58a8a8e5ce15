# nixrs-flags: --strict --json
{ type = "derivation"; outPath = "/nix/store/x"; }
