# nixrs-flags:
(x: assert x > 0; [ x ]) (1 + 1)
