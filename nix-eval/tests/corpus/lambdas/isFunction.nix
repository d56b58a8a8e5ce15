map builtins.isFunction [ (x: x) builtins.map (builtins.map (x: x)) 1 ]
