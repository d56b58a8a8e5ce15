# nixrs-flags: --json
# The top-level value is forced; its attributes that are not constants are thunks.
(x: { inherit x; }) 1
