builtins.path { path = ./pdir; filter = p: t: baseNameOf p != "skip.txt"; }
