builtins.deepSeq { f = x: throw "not called"; } 1
