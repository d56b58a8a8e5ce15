builtins.pathExists (builtins.toFile "nixrs-corpus-not-added" "abc")
