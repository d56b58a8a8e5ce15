with builtins; [ (seq 1 2) (deepSeq [ 1 ] 3) ]
