# nixrs-flags: --strict --xml
{ f = { a, ... }@args: a; g = x: x; }
