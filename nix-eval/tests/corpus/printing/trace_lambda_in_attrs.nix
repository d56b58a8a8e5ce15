builtins.trace { f = x: x; l = [ (x: x) ]; } 1
