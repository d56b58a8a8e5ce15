# nixrs-flags: --strict
{ a }: a
