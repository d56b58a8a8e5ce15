# nixrs-flags: 
{ f = x: x; g = builtins.head; }
