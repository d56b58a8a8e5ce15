# nixrs-flags: --json
{ s = "a\"b\n\t\u0001é"; f = 1.5; n = null; t = true; i = -3; l = [ [ ] { } ]; }
