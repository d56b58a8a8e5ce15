# nixrs-flags: --strict -A xs.5
{ xs = [ 1 ]; }
