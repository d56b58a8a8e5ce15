let builtins = { length = x: 42; }; in builtins.length [ ]
