# nixrs-flags:
(f: f 3) (n: [ (n - 1) n ])
