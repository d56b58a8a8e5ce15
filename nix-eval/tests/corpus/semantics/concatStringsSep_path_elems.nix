builtins.concatStringsSep ":" [ "/a" (toString /b) ]
