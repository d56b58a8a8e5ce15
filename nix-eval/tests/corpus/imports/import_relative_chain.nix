import ./helpers/chain.nix
