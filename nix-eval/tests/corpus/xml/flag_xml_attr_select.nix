# nixrs-flags: --strict --xml -A a
{ a = { b = 1; }; }
