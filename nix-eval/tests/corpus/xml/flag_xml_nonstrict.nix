# nixrs-flags: --xml
{ a = 1 + 1; }
