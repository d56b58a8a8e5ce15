# nixrs-flags: --strict --arg x 40
{ x, y ? 2 }: x + y
