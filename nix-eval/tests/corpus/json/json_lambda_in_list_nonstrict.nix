# nixrs-flags: --json
[ 1 (x: x) ]
