builtins.match "[[:alpha:]]+[[:digit:]]*[[:space:]]?" "abc123 "
