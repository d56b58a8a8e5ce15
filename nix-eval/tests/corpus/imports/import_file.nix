import ./helpers/one.nix
