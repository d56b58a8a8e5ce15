assert [ 1 "two" ./three ] == [ ]; 1
