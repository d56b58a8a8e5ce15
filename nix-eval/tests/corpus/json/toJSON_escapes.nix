builtins.toJSON "q\" b\\ n\n r\r t\t"
