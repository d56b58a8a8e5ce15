(import ./helpers/thrower.nix) 5
