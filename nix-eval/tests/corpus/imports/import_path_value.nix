builtins.typeOf (import ./helpers/path_value.nix)
