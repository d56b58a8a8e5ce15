let
  f = { a, bb ? 1
      , c ? bb, ... }@args: a;
  g = { x ? 2,  y }: x;
  pos = fa: n: builtins.unsafeGetAttrPos n fa;
in
[
  (pos (builtins.functionArgs f) "a")
  (pos (builtins.functionArgs f) "bb")
  (pos (builtins.functionArgs f) "c")
  (pos (builtins.functionArgs g) "y")
  (pos (builtins.functionArgs (x: x)) "x")
  (builtins.unsafeGetAttrPos "x" (builtins.functionArgs builtins.map))
]
