builtins.replaceStrings [ "a" "b" ] [ "A" "BB" ] "abcab"
