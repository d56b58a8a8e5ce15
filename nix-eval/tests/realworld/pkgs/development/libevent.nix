{ lib, stdenv, fetchurl, openssl, sslSupport ? true }:
stdenv.mkDerivation rec {
  pname = "libevent";
  version = "2.1.12";
  src = fetchurl {
    url = "https://github.example.org/libevent/libevent/releases/download/release-${version}-stable/libevent-${version}-stable.tar.gz";
    sha256 = builtins.hashString "sha256" "libevent";
  };
  outputs = [ "out" "dev" ] ++ lib.optional sslSupport "openssl";
  outputBin = "dev";
  propagatedBuildOutputs = [ "out" ] ++ lib.optional sslSupport "openssl";
  buildInputs = lib.optional sslSupport openssl;
  doCheck = false;
  postInstall = lib.optionalString sslSupport ''
    moveToOutput "lib/libevent_openssl*" "$openssl"
  '';
  meta.license = lib.licenses.bsd3;
}
