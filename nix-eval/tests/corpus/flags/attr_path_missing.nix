# nixrs-flags: --strict -A b
{ a = 1; }
