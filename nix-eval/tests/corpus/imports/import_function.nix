(import ./helpers/fn.nix) 20
