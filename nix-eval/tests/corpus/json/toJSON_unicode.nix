builtins.toJSON "é日本\u"
