# nixrs-flags:
# calls of simple-body lambdas stay lazy; partial applications are lambdas
let
  add = a: b: a + b;
  m = map (x: x * 2) [ 1 2 ];
  g = builtins.genList (i: i) 3;
  p = add 1;
  f = builtins.foldl' add 0 [ 1 2 3 ];
  t = builtins.tryEval ((x: if x then 1 else 2) (throw "c"));
  s = (x: x + 1) (throw "not forced") == null;
in builtins.seq m (builtins.seq g (builtins.seq p (builtins.seq f (builtins.seq t { inherit m g p f t s; }))))
