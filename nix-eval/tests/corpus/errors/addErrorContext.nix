builtins.addErrorContext "while doing X" (throw "inner")
