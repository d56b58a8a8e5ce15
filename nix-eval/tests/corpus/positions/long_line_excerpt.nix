let x = 1; y = 2; z = 3; w = 4; v = 5; u = 6; t = 7; s = 8; r = 9; q = 10; in x + y + z + w + v + u + t + s + r + q + "the end"
