let n = "foo"; in ./dir/${n}.nix
