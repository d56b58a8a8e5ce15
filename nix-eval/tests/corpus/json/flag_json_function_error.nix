# nixrs-flags: --strict --json
{ f = x: x; }
