# nixrs-flags:
(x: if x > 1 then [ x ] else [ ]) (1 + 1)
