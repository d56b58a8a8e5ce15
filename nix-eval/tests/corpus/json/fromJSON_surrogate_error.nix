builtins.fromJSON "\ud800" 
