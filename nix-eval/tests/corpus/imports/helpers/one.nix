{ one = 1; }
