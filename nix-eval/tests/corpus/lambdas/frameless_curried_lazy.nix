# nixrs-flags:
let r = (a: b: if a > 0 then [ (a + b) (a * b) ] else null) 2 3; in builtins.seq r r
