# nixrs-flags:
(x: [ x ]) (1 + 1)
