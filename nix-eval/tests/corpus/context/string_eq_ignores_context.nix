"${derivation { name = "ctx"; system = "x86_64-linux"; builder = "/bin/sh"; }}" == builtins.unsafeDiscardStringContext "${derivation { name = "ctx"; system = "x86_64-linux"; builder = "/bin/sh"; }}"
