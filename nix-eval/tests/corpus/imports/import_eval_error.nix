import ./helpers/throws.nix
