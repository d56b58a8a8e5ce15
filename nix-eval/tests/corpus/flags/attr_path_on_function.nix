# nixrs-flags: --strict -A b
{ a ? { b = 1; } }: a
