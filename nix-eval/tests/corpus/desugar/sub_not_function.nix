let __sub = 1; in 3 - 2
