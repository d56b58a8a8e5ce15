map (x: (builtins.tryEval x).success) [ (abort "no") ]
