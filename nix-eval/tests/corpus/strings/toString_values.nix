map toString [ true false null 1 "s" [ 1 [ 2 null ] true "x" ] ]
