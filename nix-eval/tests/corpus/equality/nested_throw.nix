{ a = throw "x"; } == { b = 1; }
