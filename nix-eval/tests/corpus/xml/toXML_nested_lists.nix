builtins.toXML [ [ ] [ [ 1 ] ] { } ]
