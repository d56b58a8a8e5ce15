# nixrs-flags: --json
{ s = "str"; f = 2.5; i = 7; l = [ 1 "a" [ ] { } ]; a = { b = { c = 1; }; }; p = "x${"y"}"; }
