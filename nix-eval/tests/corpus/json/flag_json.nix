# nixrs-flags: --strict --json
{ a = 1; b = [ "x" null ]; c = { d = 1.5; }; }
