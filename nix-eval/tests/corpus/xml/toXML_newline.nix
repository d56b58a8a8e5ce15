builtins.toXML "line1\nline2\ttab"
