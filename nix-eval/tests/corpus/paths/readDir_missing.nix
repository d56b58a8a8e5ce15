builtins.readDir ./nonexistent
