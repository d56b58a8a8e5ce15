builtins.tryEval (assert true; throw "after")
