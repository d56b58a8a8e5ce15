builtins.filterSource (p: t: 1) ./pdir
