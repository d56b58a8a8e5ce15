"${./pdir}"
