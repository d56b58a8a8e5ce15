# nixrs-flags: --json
{ a = 1; b = { c = [ 1 2 (throw "deep") ]; }; z = 3; }
