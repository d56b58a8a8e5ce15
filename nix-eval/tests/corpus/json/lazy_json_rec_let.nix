# nixrs-flags: --json
let a = 1; in rec { b = a; c = b; d = [ a ]; }
