# curried lambdas `a: b: …` called with both arguments at once (by foldl' and by calls
# with two arguments) whose bodies capture one or both arguments
let
  keep = builtins.foldl' (a: b: if b > 1 then a ++ [ b ] else a) [ ] [ 1 2 3 ];
  adder = (a: b: if a > 0 then (c: a + b + c) else null) 1 2;
  both = (a: b: if true then { inherit a b; } else null) 5 6;
  outer = let k = 100; in builtins.foldl' (a: b: a + b + k) 0 [ 1 2 ];
  str = builtins.foldl' (a: b: a + b) "" [ "x" "y" ];
  thunks = builtins.foldl' (a: b: builtins.seq b (a + 1)) 0 [ (1 + 1) (2 * 3) ];
in [ keep (adder 3) both outer str thunks ]
