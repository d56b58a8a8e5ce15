import ./helpers/uses_builtins.nix
