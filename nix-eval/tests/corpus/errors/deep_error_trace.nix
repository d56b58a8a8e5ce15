let f = x: g x; g = y: y.missing; in f { }
