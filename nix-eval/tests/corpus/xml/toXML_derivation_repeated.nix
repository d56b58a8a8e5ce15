builtins.toXML [ { type = "derivation"; drvPath = "/d"; } { type = "derivation"; drvPath = "/d"; } ]
