import "helpers/one.nix"
