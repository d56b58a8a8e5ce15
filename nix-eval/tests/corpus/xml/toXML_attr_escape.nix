builtins.toXML { "a\"<b>" = "x"; }
