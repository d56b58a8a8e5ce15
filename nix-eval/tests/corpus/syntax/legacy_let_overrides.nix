let { a = 1; __overrides = { a = 2; }; body = a; }
