builtins.appendContext "x" { "a b" = { path = true; }; }
