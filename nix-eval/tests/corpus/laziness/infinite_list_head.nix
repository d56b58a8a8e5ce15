let nats = n: [ n ] ++ nats (n + 1); in builtins.head [ 1 (nats 0) ]
