map builtins.isList [ [] {} "x" ]
