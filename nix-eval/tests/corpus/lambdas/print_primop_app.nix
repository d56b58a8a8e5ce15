# nixrs-flags: 
builtins.map (x: x)
