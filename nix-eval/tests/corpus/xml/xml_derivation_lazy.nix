# nixrs-flags: --xml
{ type = "derivation"; drvPath = "/" + "d"; outPath = "/o"; }
