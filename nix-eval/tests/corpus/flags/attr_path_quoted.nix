# nixrs-flags: --strict -A '"a.b"'
{ "a.b" = 1; }
