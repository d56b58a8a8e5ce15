import <corpus/one.nix>
