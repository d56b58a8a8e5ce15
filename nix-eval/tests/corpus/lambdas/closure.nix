let mk = x: y: x + y; add2 = mk 2; in add2 3
