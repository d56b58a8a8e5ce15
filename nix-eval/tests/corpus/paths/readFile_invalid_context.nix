builtins.readFile (builtins.toFile "nixrs-corpus-not-added" "abc")
