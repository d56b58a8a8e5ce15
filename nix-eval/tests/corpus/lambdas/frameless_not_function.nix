let f = n: n 1; in f 2
