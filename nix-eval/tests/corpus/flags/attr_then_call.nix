# nixrs-flags: --strict -A f --arg n 5
{ f = { n ? 3 }: n * 2; }
