builtins.sort (a: b: a < b) [ "b" "A" "a" "" ]
