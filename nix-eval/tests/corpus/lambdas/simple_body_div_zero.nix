let f = x: x / 0; in f 1
