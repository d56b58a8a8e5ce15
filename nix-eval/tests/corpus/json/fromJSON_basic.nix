builtins.fromJSON ''{"a": [1, 2.5, "s", true, false, null], "b": {"c": {}}}''
