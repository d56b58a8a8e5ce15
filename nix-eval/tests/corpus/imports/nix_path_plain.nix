import <plain.nix>
