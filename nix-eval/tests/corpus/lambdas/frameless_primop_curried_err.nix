# a curried frameless body calling a builtin with a wrong argument from foldl'
let sub = a: b: builtins.substring 0 a b; in builtins.foldl' sub 2 [ "xyz" "uvw" ]
