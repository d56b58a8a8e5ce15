# nixrs-flags: --strict --json
"hello\nworld"
