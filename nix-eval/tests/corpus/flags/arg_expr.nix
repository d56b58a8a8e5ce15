# nixrs-flags: --strict --arg s '{ a = 7; }'
{ s }: s.a
