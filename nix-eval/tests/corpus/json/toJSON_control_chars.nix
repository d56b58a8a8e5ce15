builtins.toJSON (builtins.fromJSON "\"\\b\\f\\u0001\"")
