builtins.fromTOML "[t]\nb = 1\n[u]\nb = 2\n[ t ]\nb = 3"
