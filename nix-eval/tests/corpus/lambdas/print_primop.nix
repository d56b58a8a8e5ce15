# nixrs-flags: 
builtins.map
