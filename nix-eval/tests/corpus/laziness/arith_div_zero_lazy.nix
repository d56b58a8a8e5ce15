# nixrs-flags:
(n: if n > 0 then [ (n / 0) ] else null) 3
