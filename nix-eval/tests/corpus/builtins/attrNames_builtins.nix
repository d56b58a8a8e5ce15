builtins.length (builtins.attrNames builtins)
