{ lib, stdenv, fetchurl, pkg-config, perl, openssl, zlib, http2Support ? true, zlibSupport ? true
, sslSupport ? true, scpSupport ? false, libssh2 ? null }:
assert scpSupport -> libssh2 != null;
stdenv.mkDerivation (finalAttrs: {
  pname = "curl";
  version = "7.86.0";
  src = fetchurl {
    urls = [
      "https://curl.example.org/download/curl-${finalAttrs.version}.tar.bz2"
      "https://github.example.org/curl/curl/releases/download/curl-${builtins.replaceStrings [ "." ] [ "_" ] finalAttrs.version}/curl-${finalAttrs.version}.tar.bz2"
    ];
    sha256 = builtins.hashString "sha256" "curl-${finalAttrs.version}";
  };
  outputs = [ "bin" "dev" "out" "man" "devdoc" ];
  separateDebugInfo = stdenv.isLinux;
  enableParallelBuilding = true;
  strictDeps = true;
  nativeBuildInputs = [ pkg-config perl ];
  propagatedBuildInputs = lib.optional sslSupport openssl
    ++ lib.optional zlibSupport zlib
    ++ lib.optional scpSupport libssh2;
  configureFlags = [
    "--enable-versioned-symbols"
    "--disable-manual"
    (lib.withFeatureAs sslSupport "openssl" (lib.getDev openssl))
    (lib.withFeature http2Support "nghttp2")
    (if zlibSupport then "--with-zlib=${lib.getDev zlib}" else "--without-zlib")
  ];
  CXX = "${stdenv.cc.targetPrefix or ""}c++";
  CXXCPP = "${stdenv.cc.targetPrefix or ""}c++ -E";
  doCheck = false;
  postInstall = ''
    moveToOutput bin/curl-config "$dev"
  '';
  passthru = {
    inherit sslSupport openssl;
    tests.withCheck = finalAttrs.finalPackage.overrideAttrs (_: { doCheck = true; });
  };
  meta = with lib; {
    description = "A command line tool for transferring files with URL syntax";
    homepage = "https://curl.example.org/";
    license = licenses.mit;
    platforms = platforms.all;
  };
})
