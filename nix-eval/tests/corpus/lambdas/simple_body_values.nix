# lambdas whose body is only constants, variables, operators, `+` and `if`, called with
# every kind of value (the evaluator calls them without an environment)
let
  add = a: b: a + b;
  inc = add 1;
  rec_ = rec { r = (x: x + b) 1; b = 2; };
in [
  (map (x: x + "!") [ "a" "b" ])
  (builtins.foldl' (a: b: a + b) "" [ "x" "y" "z" ])
  (builtins.foldl' add 0.5 [ 1 2 ])
  ((x: "p" + x) "q")
  ((x: x + 1.5) 2)
  ((x: x == [ 1 2 ]) [ 1 2 ])
  ((x: x // { b = 1; }) { a = 1; })
  ((x: x ++ [ 3 ]) [ 1 2 ])
  ((x: x < "b") "a")
  ((x: if x > 2 then x - 2 else x * 10) 5)
  ((x: if x > 2 then x - 2 else x * 10) 1)
  ((x: x) (y: y))
  (inc 2)
  (builtins.isFunction inc)
  (builtins.functionArgs inc)
  rec_.r
  (builtins.filter (x: x / 2 * 2 == x) (builtins.genList (i: i * 3) 7))
]
