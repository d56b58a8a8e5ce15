# nixrs-flags: --strict --json
[ 1.0 0.1 1.0e30 ]
