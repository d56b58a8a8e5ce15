let sub = a: b: builtins.substring a 2 b; in sub (-1) "abc"
