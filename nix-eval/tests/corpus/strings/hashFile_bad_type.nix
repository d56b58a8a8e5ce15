builtins.hashFile "sha3" ./hashFile_bad_type.nix
