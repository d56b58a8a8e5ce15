builtins.tryEval (builtins.deepSeq [ (throw "d") ] 1)
