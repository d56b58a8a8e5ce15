{ a = throw "boom"; } == { a = 1; }
