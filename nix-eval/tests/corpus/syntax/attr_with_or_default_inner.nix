{ a.b = 1; }.a.c or { x = 1; }.x
