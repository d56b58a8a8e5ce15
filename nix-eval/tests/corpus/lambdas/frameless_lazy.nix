# nixrs-flags:
# thunks made inside frameless calls stay unevaluated (printed as <CODE>)
let
  mk = x: if x > 0 then [ x (x * 2) (builtins.div x 0) ] else null;
  pair = x: builtins.seq x { a = x + 1; b = x; };
  r = mk 2;
  p = pair 3;
in builtins.seq r (builtins.seq p { inherit r p; })
