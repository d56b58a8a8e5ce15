# nixrs-flags: 
let a = { x = 1; }; in builtins.seq a [ a a ]
