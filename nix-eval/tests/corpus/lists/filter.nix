builtins.filter (x: x > 1) [ 0 1 2 3 ]
