{ a = { }; }.a.b.c or "dflt"
