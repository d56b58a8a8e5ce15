let a = [ 1 ]; b = { x = a; y = a; }; in [ b b a ]
