let
  big = builtins.listToAttrs (builtins.genList (i: { name = "k${toString i}"; value = i; }) 200);
  step = acc: i: acc // { "k${toString (i * 7)}" = -i; "n${toString i}" = i; };
  layered = builtins.foldl' step big (builtins.genList (i: i) 40);
  small = builtins.foldl' (a: i: a // { "x${toString (i - i / 3 * 3)}" = i; }) { } (builtins.genList (i: i) 30);
in {
  n = builtins.length (builtins.attrNames layered);
  k7 = layered.k7;
  k273 = layered.k273;
  k280 = layered.k280 or "none";
  k199 = layered.k199;
  n39 = layered.n39;
  has = [ (layered ? k0) (layered ? n40) (layered ? k199) ];
  vals = builtins.foldl' (a: b: a + b) 0 (builtins.attrValues layered);
  inherit small;
  eq = layered == (big // layered);
  names = builtins.attrNames (builtins.removeAttrs layered (builtins.genList (i: "k${toString i}") 190));
  inter = builtins.attrNames (builtins.intersectAttrs { k3 = 1; n5 = 2; zz = 3; } layered);
}
