import ./helpers/bad_select.nix
