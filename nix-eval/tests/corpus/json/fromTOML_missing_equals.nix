builtins.fromTOML "a.b"
