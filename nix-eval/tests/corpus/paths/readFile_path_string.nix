builtins.readFile (toString ./pdir/keep.txt)
