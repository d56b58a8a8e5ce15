builtins.hasContext (builtins.unsafeDiscardStringContext "${derivation { name = "ctx"; system = "x86_64-linux"; builder = "/bin/sh"; }}")
