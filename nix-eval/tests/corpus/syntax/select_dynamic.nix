let s = { x = 5; }; n = "x"; in s.${n}
