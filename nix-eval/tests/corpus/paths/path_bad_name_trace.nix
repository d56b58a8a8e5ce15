builtins.path { path = ./pdir; name = "a/b"; }
