import ./nonexistent.nix
