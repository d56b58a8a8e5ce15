# nixrs-flags: --strict --json
[ true false null ]
