{ a = 1; f = x: x; }
