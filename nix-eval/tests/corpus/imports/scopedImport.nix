scopedImport { x = 5; } ./helpers/uses_x.nix
