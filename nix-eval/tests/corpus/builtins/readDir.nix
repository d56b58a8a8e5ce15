builtins.readDir ./dir
