builtins.path { path = ./pdir; name = "renamed"; }
