builtins.fromTOML "a = \"s\" x"
