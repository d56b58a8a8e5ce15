builtins.sort (a: b: a < b) [ /b /a /c ]
