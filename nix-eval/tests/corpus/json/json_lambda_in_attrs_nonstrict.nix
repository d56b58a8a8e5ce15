# nixrs-flags: --json
{ a = 1; b = x: x; }
