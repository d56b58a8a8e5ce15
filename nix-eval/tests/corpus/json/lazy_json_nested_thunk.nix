# nixrs-flags: --json
let xs = builtins.genList (i: i * i) 4; in { a = xs; b = { c = 1 + 2; d = [ (x: x) ]; }; }
