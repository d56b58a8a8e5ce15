# nixrs-flags: --strict --arg x '1 +'
{ x }: x
