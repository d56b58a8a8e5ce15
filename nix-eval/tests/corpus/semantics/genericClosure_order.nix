map (x: x.key) (builtins.genericClosure { startSet = [ { key = 3; } { key = 1; } ]; operator = x: if x.key > 0 then [ { key = x.key - 1; } ] else [ ]; })
