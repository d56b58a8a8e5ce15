# nixrs-flags: --strict --json
builtins.fromJSON "\"\\u0001\\u001f\""
