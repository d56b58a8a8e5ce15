with builtins; [ (lessThan 1 2) (lessThan "b" "a") (lessThan [1 2] [1 3]) ]
