builtins.toJSON (builtins.fromJSON "[0.1, 1e300, 2.5e-8]")
