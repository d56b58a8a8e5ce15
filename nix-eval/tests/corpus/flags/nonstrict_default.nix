# nixrs-flags: 
{ a = 1 + 1; }
