/foo/bar/../baz
