[ (x: x) builtins.add ]
