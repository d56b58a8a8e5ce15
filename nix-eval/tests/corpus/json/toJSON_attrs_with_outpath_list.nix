builtins.toJSON [ { outPath = "/a"; } { outPath = "/b"; x = 1; } ]
