builtins.toJSON { __toString = _: "str"; }
