let x = null; in x.a
