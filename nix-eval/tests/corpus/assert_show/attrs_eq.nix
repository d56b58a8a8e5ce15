assert { a = 1; b = "s"; } == { }; 1
