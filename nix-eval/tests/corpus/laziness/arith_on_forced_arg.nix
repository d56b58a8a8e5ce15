# nixrs-flags:
(n: if n > 0 then [ n (n - 1) (n * 2) (n / 2) (n == 2) (n + 1) ] else [ ]) (1 + 1)
