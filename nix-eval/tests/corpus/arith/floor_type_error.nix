builtins.floor "x"
