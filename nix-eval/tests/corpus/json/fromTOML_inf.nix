builtins.fromTOML "a = inf\nb = -inf\nc = 0xff"
