toString { __toString = self: "custom ${self.v}"; v = "V"; }
