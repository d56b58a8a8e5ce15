# nixrs-flags: --strict -A a.b
{ a = { b = 42; }; c = throw "not selected"; }
