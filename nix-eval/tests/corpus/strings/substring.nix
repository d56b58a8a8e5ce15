with builtins; [ (substring 0 3 "hello") (substring 2 100 "hello") (substring 5 1 "hello") (substring 1 0 "hello") ]
