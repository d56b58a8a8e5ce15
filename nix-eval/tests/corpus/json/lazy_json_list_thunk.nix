# nixrs-flags: --json
let f = x: { inherit x; y = x + 1; }; in [ (f 1) (f 2).y (builtins.map (x: x * 2) [ 1 2 3 ]) ]
