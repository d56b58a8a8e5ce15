{ lib, stdenv, fetchurl, perl, zlib, enableKTLS ? false, withZlib ? true, static ? false }:
stdenv.mkDerivation rec {
  pname = "openssl";
  version = "3.0.7";

  src = fetchurl {
    url = "https://www.openssl.example.org/source/${pname}-${version}.tar.gz";
    sha256 = "0virbkcrw7nn3gr5r51z722gs1ppig0casj0c9pnj3i65829s143";
  };

  patches = [ ../../patches/openssl-no-etc.patch ];

  outputs = [ "bin" "dev" "out" "man" "doc" ];
  setOutputFlags = false;
  separateDebugInfo = true;

  nativeBuildInputs = [ perl ];
  buildInputs = lib.optional withZlib zlib;

  configureScript = "./Configure";
  configureFlags = [
    "shared"
    "--libdir=lib"
    "--openssldir=etc/ssl"
  ] ++ lib.optional enableKTLS "enable-ktls"
    ++ lib.optional withZlib "zlib"
    ++ lib.optional static "no-shared";

  makeFlags = [ "MANDIR=$(man)/share/man" "MANSUFFIX=ssl" ];
  enableParallelBuilding = true;

  postInstall = ''
    mkdir -p $bin
    mv $out/bin $bin/bin
    rm -r $out/etc/ssl/misc
  '';

  passthru = {
    inherit enableKTLS;
    srcVersion = version;
  };

  meta = with lib; {
    homepage = "https://www.openssl.example.org/";
    description = "A cryptographic library that implements the SSL and TLS protocols";
    license = licenses.asl20;
    platforms = platforms.all;
    priority = 10;
  };
}
