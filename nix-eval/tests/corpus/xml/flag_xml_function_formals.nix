# nixrs-flags: --strict --xml
{ a ? 1, b }: a
