# lambdas whose body is a call, `if` or operator but that capture their argument (in a
# thunk, a closure, a list or a set) further down
let
  twice = f: x: f (f x);
  addAll = x: builtins.foldl' (a: b: a + b + x) 0 [ 1 2 3 ];
  mk = x: if x > 0 then [ x (x * 2) ] else { neg = x; };
  withArg = x: builtins.map (y: y + x) [ 1 2 ];
  lazyArg = x: builtins.length [ (throw "no") x ];
  viaLet = x: if true then (let y = x + 1; in y * 2) else 0;
  strArg = s: "<" + s + ">";
  str2 = s: s + "!";
  partial = x: builtins.add x;
  nested = n: if n == 0 then [ ] else [ n ] ++ nested (n - 1);
  withScope = x: with { y = 10; }; x + y;
  callThunk = x: (y: y) (x + 1);
  selfRef = x: builtins.seq x x;
in [
  (twice (x: x * 3) 2)
  (addAll 10)
  (mk 2)
  (mk (-1))
  (withArg 5)
  (lazyArg 1)
  (viaLet 3)
  (strArg "a")
  (str2 "b")
  ((partial 2) 3)
  (nested 4)
  (withScope 1)
  (callThunk 1)
  (selfRef { a = 1; })
]
