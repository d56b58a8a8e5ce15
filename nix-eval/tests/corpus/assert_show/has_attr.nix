let s = { }; in assert s ? a.b; 1
