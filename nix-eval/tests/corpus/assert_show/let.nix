assert let y = 1; in y == 2; 1
