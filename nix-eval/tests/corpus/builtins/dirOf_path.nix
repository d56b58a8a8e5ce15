builtins.dirOf /a/b/c.nix
