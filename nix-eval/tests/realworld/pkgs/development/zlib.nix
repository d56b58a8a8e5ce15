{ lib, stdenv, fetchurl, shared ? true, static ? !shared }:
stdenv.mkDerivation (finalAttrs: {
  pname = "zlib";
  version = "1.2.13";

  src = fetchurl {
    urls = [
      "https://www.zlib.example.org/fossils/zlib-${finalAttrs.version}.tar.gz"
      "mirror://sourceforge/libpng/zlib/${finalAttrs.version}/zlib-${finalAttrs.version}.tar.gz"
    ];
    hash = "sha256-s6JN6XqP28g1uYMxaVAQMLiXcDG8tUs7OsE3QPhGqzA=";
  };

  outputs = [ "out" "dev" ]
    ++ lib.optional (shared && static) "static";
  setOutputFlags = false;
  outputDoc = "dev";

  configureFlags = lib.optional shared "--shared"
    ++ lib.optional static "--static";

  postInstall = lib.optionalString (shared && static) ''
    moveToOutput lib/libz.a "$static"
  '';

  makeFlags = [ "PREFIX=${stdenv.cc.targetPrefix or ""}" "SHARED_MODE=1" ];
  doCheck = true;

  passthru.tests.version = "zlib --version";

  meta = with lib; {
    homepage = "https://zlib.example.org";
    description = "Lossless data-compression library";
    license = licenses.zlib;
    platforms = platforms.all;
    maintainers = [ maintainers.alice ];
  };
})
