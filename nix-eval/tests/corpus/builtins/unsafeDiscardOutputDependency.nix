builtins.unsafeDiscardOutputDependency "s"
