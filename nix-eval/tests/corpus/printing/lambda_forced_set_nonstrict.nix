# nixrs-flags:
let s = { f = x: x; }; in builtins.seq s { inherit s; g = y: y; }
