assert with { a = false; }; a; 1
