# nixrs-flags:
(n: let m = n - 1; in builtins.seq m [ n m ]) (1 + 1)
