# nixrs-flags: --strict --xml
builtins.functionArgs ({ x ? 2,
  y }: x)
