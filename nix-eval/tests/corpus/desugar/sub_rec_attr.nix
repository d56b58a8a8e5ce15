# A `rec` attribute is in scope for the operators of its own set.
rec { __sub = a: b: "rec"; x = 5 - 3; y = -1; }
