# nixrs-flags: --strict --show-trace
builtins.mapAttrs (n: v: v.a) { a = 1; }
