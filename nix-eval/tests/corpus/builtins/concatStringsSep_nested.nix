builtins.concatStringsSep "/" [ "a" "${"b"}" ]
