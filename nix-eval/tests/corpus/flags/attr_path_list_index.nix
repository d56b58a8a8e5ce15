# nixrs-flags: --strict -A xs.1
{ xs = [ 10 20 30 ]; }
