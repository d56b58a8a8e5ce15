let
  __mul = a: b: "mul ${toString a} ${toString b}";
  __div = a: b: "div ${toString a} ${toString b}";
in [ (2 * 3) (6 / 3) (x: x / 2) ]
