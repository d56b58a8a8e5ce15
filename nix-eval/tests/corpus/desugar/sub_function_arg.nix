# A function argument named `__sub` shadows the builtin inside its body only.
let f = { __sub ? (a: b: "formal") }: 8 - 2; in [ (f { }) (f { __sub = a: b: a * b; }) (8 - 2) ]
