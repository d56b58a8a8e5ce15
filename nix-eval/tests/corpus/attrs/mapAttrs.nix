builtins.mapAttrs (n: v: n + toString v) { a = 1; b = 2; }
