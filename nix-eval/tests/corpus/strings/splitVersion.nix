builtins.splitVersion "1.2.3pre4-rc5"
