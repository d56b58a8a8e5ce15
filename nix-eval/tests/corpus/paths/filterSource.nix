builtins.filterSource (p: t: t != "directory") ./pdir
