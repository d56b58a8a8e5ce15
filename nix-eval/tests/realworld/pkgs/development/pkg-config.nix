{ lib, stdenv, fetchurl }:
stdenv.mkDerivation rec {
  pname = "pkg-config";
  version = "0.29.2";
  src = fetchurl {
    urls = [
      "https://pkgconfig.example.org/releases/${pname}-${version}.tar.gz"
      "http://fossies.example.org/linux/misc/${pname}-${version}.tar.gz"
    ];
    sha256 = builtins.hashString "sha256" "pkg-config";
  };
  outputs = [ "out" "man" "doc" ];
  strictDeps = true;
  configureFlags = [ "--with-internal-glib" ];
  enableParallelBuilding = true;
  doCheck = true;
  postInstall = ''
    rm -f "$out"/bin/*-pkg-config
  '';
  meta.license = lib.licenses.gpl2Plus;
}
