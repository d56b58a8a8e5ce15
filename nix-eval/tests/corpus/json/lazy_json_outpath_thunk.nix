# nixrs-flags: --json
{ a = { outPath = "/x"; other = throw "not forced"; }; b = { __toString = self: "ts"; c = 1; }; c = [ { outPath = ./c.nix; } ]; }
