builtins.stringLength "hello é"
