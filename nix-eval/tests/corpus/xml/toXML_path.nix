builtins.toXML ./x
