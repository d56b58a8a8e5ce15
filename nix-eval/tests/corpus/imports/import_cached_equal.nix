let a = import ./helpers/attrs.nix; b = import ./helpers/attrs.nix; in a == b
