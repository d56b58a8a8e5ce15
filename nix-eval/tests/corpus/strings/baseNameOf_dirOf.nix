with builtins; [ (baseNameOf "/a/b/c") (baseNameOf "/a/b/") (dirOf "/a/b/c") (dirOf "/a/b/") (dirOf "a") (baseNameOf "") (dirOf "/") ]
