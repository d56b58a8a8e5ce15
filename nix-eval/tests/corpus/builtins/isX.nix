with builtins; [ (isInt 1) (isFloat 1.0) (isFloat 1) (isString "") (isBool false) (isNull null) (isPath ./.) (isPath "/a") ]
