builtins.match "a" "b"
