# builtins called from frameless bodies with their exact arity, fewer or more arguments
let
  ty = x: builtins.typeOf x;
  sub = a: b: builtins.substring 0 a b;
  more = x: builtins.head x 2;
  fewer = x: builtins.elemAt x;
  lazy = x: builtins.length [ x (throw "no") ];
  sq = n: builtins.seq n (n * n);
in [
  (ty 1) (ty "s") (ty (y: y))
  (sub 3 "abcdef")
  (builtins.foldl' (a: b: a + builtins.substring 0 1 b) "" [ "xyz" "uvw" ])
  (more [ (y: y * 3) ])
  ((fewer [ 4 5 ]) 1)
  (lazy 1)
  (sq 7)
]
