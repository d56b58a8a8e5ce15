# nixrs-flags: 
{ a = { b = { c = 1; }; }; }
