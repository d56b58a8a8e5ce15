let d = derivation { name = "m"; system = "x86_64-linux"; builder = "/bin/sh"; outputs = [ "out" "dev" ]; }; in [ d.outputName d.dev.outputName d.dev.outPath d.out.outPath d.drvPath ]
