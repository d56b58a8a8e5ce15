# nixrs-flags: --strict -A drvPath
derivation { name = "e"; system = "x86_64-linux"; builder = "/bin/sh"; a = true; b = false; c = null; d = 1; e = 1.5; f = [ "x" 1 true null ]; g = ./dfile.txt; }
