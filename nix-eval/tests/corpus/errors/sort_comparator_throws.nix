builtins.sort (a: b: throw "cmp") [ 1 2 ]
