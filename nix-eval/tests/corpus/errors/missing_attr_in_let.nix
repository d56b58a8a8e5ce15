let s = { }; in s.x.y
