builtins.toXML (args@{ x, ... }: x)
