builtins.toXML [ 1.5 100000000.0 (-3) ]
