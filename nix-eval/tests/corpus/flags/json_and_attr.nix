# nixrs-flags: --strict --json -A a
{ a = { b = [ 1 ]; }; }
