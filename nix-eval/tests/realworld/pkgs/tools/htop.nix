{ lib, stdenv, fetchurl, ncurses, sensorsSupport ? stdenv.isLinux }:
stdenv.mkDerivation rec {
  pname = "htop";
  version = "3.2.1";
  src = fetchurl {
    url = "https://github.example.org/htop-dev/${pname}/releases/download/${version}/${pname}-${version}.tar.xz";
    sha256 = builtins.hashString "sha256" "htop";
  };
  buildInputs = [ ncurses ];
  configureFlags = [ "--enable-unicode" "--sysconfdir=/etc" ]
    ++ lib.optional sensorsSupport "--with-sensors";
  meta.license = lib.licenses.gpl2Plus;
}
