let f = { __functor = self: { x }: x + self.y; y = 1; }; in f { x = 2; }
