builtins.toXML { type = "derivation"; outPath = "/o"; drvPath = "/d"; name = "n"; }
