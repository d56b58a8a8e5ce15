let a = 10; in with { a = 1; }; a
