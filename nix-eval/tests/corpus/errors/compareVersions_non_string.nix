builtins.compareVersions 1 "a"
