builtins.getContext (builtins.appendContext "x" { "/nix/store/i4yyjl4lchsm1fgpxx0xzv7wb5vg48lp-h.nix" = { path = true; }; })
