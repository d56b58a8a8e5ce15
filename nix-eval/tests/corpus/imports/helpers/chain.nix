(import ./sub/two.nix) + 1
