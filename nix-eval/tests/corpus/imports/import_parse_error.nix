import ./helpers/broken.nix
