{ lib, stdenv, fetchurl, linkStatic ? false }:
stdenv.mkDerivation rec {
  pname = "bzip2";
  version = "1.0.8";
  src = fetchurl {
    url = "https://sourceware.example.org/pub/bzip2/${pname}-${version}.tar.gz";
    sha256 = "0s92986cv0p692icqlw1j42y9nld8zd83qwhzbqd61p1dqbh6nmb";
  };
  outputs = [ "bin" "dev" "out" "man" ];
  configureFlags = lib.optionals linkStatic [ "--enable-static" "--disable-shared" ];
  dontConfigure = true;
  buildPhase = ''
    runHook preBuild
    make -f Makefile-libbz2_so
    make
    runHook postBuild
  '';
  installPhase = ''
    make install PREFIX=$out
    cp -d libbz2.so* $out/lib
  '';
  meta = with lib; {
    description = "High-quality data compression program";
    license = { spdxId = "bzip2-1.0.6"; fullName = "bzip2 and libbzip2 License v1.0.6"; free = true; };
    platforms = platforms.all;
  };
}
