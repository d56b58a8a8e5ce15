# nixrs-flags: --strict --argstr x y
x: x
