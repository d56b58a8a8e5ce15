let x = (y: y + 1) x; in x
