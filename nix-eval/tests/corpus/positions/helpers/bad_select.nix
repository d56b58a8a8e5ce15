let s = { };
in
  s.missing
