# `inherit (e) x;` in a `let` or `rec` set evaluates `e` in the scope of that set's own bindings.
let
  a = { b = 1; c = 2; };
  inherit (a) b c;
  nested = let inherit (set) d; set = { d = b + c; }; in d;
in [ b c nested (rec { x = { y = 3; }; inherit (x) y; }.y) (let b = 5; in let inherit (a) b; in b) ]
