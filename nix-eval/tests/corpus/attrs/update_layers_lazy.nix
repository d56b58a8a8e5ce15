# nixrs-flags:
let
  base = builtins.listToAttrs (builtins.genList (i: { name = "a${toString i}"; value = i * 2; }) 50);
  s = builtins.foldl' (acc: i: acc // { "a${toString i}" = acc."a${toString i}" + 1; }) base (builtins.genList (i: i) 10);
in builtins.seq s.a3 s
