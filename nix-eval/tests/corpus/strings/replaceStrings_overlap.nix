builtins.replaceStrings [ "aa" "a" ] [ "X" "Y" ] "aaa"
