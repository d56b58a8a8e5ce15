let f = x: abort "in f ${x}"; in f "arg"
