builtins.fromTOML "x = 1\nb = "
