builtins.getContext (builtins.replaceStrings [ "a" ] [ "${derivation { name = "ctx"; system = "x86_64-linux"; builder = "/bin/sh"; }}" ] "xax")
