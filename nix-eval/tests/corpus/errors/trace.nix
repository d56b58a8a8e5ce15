builtins.trace "tracing here" 42
