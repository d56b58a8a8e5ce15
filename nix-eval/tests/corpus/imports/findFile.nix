builtins.findFile [ { prefix = "p"; path = toString ./helpers; } ] "p/one.nix"
