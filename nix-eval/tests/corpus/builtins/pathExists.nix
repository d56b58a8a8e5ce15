with builtins; [ (pathExists ./data.txt) (pathExists ./nope) (pathExists ./dir) ]
