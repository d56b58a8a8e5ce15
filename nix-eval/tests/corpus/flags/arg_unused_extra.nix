# nixrs-flags: --strict --arg b 2
{ a ? 1, ... }: a
