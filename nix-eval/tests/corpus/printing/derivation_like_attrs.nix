{ type = "derivation"; name = "x"; outPath = "/p"; }
