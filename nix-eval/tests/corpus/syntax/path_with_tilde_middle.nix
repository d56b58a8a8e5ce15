builtins.typeOf ./a~b
