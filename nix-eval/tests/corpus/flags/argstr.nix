# nixrs-flags: --strict --argstr name world
{ name }: "hello ${name}"
