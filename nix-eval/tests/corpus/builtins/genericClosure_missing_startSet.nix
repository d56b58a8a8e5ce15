builtins.genericClosure (builtins.removeAttrs { operator = x: [ ]; } [ ])
