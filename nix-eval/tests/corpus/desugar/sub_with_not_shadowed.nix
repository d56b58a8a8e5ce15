# `with` cannot shadow a builtin name, so the operator stays the builtin.
with { __sub = a: b: 9; __lessThan = a: b: "w"; }; [ (5 - 3) (1 < 2) ]
