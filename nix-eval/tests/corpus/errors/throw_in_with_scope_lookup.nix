with { a = throw "scope"; }; a
