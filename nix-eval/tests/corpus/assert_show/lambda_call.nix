assert (x: x) false; 1
