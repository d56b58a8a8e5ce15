{ a = x: x; } == { a = x: x; }
