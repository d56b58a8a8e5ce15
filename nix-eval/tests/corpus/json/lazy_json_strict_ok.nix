# nixrs-flags: --json --strict
let xs = builtins.genList (i: i * i) 4; in { a = xs; b = { c = 1 + 2; d = -1; }; }
