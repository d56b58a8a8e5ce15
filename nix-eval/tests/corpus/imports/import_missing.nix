import ./helpers/missing.nix
