builtins.concatMap (x: y: y) [ 1 ]
