let x = 0; in assert x > 1; x
