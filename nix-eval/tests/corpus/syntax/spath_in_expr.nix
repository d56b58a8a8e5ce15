builtins.typeOf <plain.nix>
