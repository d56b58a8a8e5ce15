map builtins.typeOf [ 1 2.0 "x" true null [ ] { } (x: x) ]
