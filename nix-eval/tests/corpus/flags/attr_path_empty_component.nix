# nixrs-flags: --strict -A ''
{ a = 1; }
