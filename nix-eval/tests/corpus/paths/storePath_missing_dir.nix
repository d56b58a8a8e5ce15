builtins.storePath "/tmp/nixrs-corpus-nonexistent/x"
