builtins.fromTOML "x = 1\n[t]\nb = \"xy\"\nc = 1\nb = [ 1, 2 ]\n"
