{ lib, stdenv, fetchurl, enableStatic ? false }:
stdenv.mkDerivation rec {
  pname = "xz";
  version = "5.2.7";
  src = fetchurl {
    url = "https://tukaani.example.org/xz/xz-${version}.tar.bz2";
    sha256 = "0s9bfajd8inf2h3y2g0bqj8bnj1b9yf8qmxjmr4bqvgdbj9r7ja5";
  };
  outputs = [ "bin" "dev" "out" "man" "doc" ];
  configureFlags = lib.optional enableStatic "--disable-shared";
  enableParallelBuilding = true;
  doCheck = true;
  preCheck = ''
    export LD_LIBRARY_PATH=$PWD/src/liblzma/.libs
  '';
  meta = with lib; {
    homepage = "https://tukaani.example.org/xz/";
    description = "A general-purpose data compression software";
    license = with licenses; [ gpl2Plus ];
    platforms = platforms.all;
  };
}
