with builtins; [ (any (x: x > 2) [ 1 2 3 ]) (all (x: x > 2) [ 1 2 3 ]) (any (x: x) [ ]) (all (x: x) [ ]) ]
