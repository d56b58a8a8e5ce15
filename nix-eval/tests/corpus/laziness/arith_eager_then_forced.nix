# nixrs-flags:
(n: if n > 0 then (m: builtins.seq m [ n m (n / 0) ]) (n - 1) else null) (1 + 1)
