# nixrs-flags: 
{ a = 1 + 1; b = [ (2 * 3) ]; }
