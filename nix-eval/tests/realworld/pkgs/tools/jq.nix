{ lib, stdenv, fetchurl, onigurumaSupport ? false }:
stdenv.mkDerivation rec {
  pname = "jq";
  version = "1.6";
  src = fetchurl {
    url = "https://github.example.org/stedolan/jq/releases/download/${pname}-${version}/${pname}-${version}.tar.gz";
    sha256 = "0wmapfskhzfwranf6515nzmm84r7kwljgfs7dg6bjgxakbicis2x";
  };
  outputs = [ "bin" "doc" "man" "dev" "lib" "out" ];
  configureFlags = [
    "--bindir=\${bin}/bin"
    "--sbindir=\${bin}/bin"
    "--datadir=\${doc}/share"
    "--mandir=\${man}/share/man"
  ] ++ lib.optional (!onigurumaSupport) "--with-oniguruma=no";
  doInstallCheck = true;
  installCheckTarget = "check";
  postInstallCheck = ''
    $bin/bin/jq --help >/dev/null
  '';
  meta.license = lib.licenses.mit;
}
