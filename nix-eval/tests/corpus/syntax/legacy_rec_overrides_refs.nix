rec { a = 1; __overrides = { a = 2; n = 3; }; b = a; c = a + 1; }
