[ (1 + 2 * 3) (10 - 2 - 3) (2 * 3 / 2) (!true || true) (true -> false) (1 < 2 == true) ]
