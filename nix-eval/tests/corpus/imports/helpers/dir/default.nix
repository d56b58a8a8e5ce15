{ fromDir = "default.nix"; }
