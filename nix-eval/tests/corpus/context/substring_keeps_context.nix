builtins.hasContext (builtins.substring 0 0 "${derivation { name = "ctx"; system = "x86_64-linux"; builder = "/bin/sh"; }}")
