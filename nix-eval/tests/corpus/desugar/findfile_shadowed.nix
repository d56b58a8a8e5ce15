# `<x>` is `__findFile __nixPath "x"`.
let
  __findFile = path: name: { inherit name; n = builtins.length path; };
  __nixPath = [ { prefix = "a"; path = "/a"; } ];
in [ <foo> <foo/bar.nix> ]
