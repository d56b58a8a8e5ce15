# nixrs-flags: --json
{ a = 1 + 1; }
