map (x: x.key) (builtins.genericClosure { startSet = [ { key = "a"; } { key = "a"; } ]; operator = x: [ { key = "b"; } ]; })
