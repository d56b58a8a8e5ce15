import ./pdir
