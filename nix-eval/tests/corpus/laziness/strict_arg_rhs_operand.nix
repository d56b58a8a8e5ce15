# nixrs-flags:
(x: if 0 < x then [ x ] else [ ]) (3 - 1)
