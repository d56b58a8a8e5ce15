final: prev: {
  hello = prev.hello.overrideAttrs (old: {
    patches = (old.patches or [ ]) ++ [ ../patches/hello-greeting.patch ];
  });
  zlib = prev.zlib.overrideAttrs (old: {
    postPatch = ''
      substituteInPlace configure --replace '/usr/bin/libtool' 'ar'
    '';
  });
}
