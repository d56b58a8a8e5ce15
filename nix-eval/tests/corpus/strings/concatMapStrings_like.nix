builtins.concatStringsSep "" (map (x: x + x) [ "a" "b" ])
