builtins.concatStringsSep "-" []
