let
  inherit (builtins) map filter;
  f = x: x * 2;
  xs = [ 1 2 3 ];
in
  map f (filter (x: x > 1) xs)
