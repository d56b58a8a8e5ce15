map builtins.isAttrs [ {} [] 1 ]
