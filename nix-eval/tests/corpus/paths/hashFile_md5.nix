builtins.hashFile "md5" ./pdir/keep.txt
