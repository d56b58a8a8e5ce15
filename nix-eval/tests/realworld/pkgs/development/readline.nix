{ lib, stdenv, fetchurl, ncurses }:
stdenv.mkDerivation rec {
  pname = "readline";
  version = "8.2p1";
  src = fetchurl {
    url = "mirror://gnu/readline/readline-${lib.versions.majorMinor version}.tar.gz";
    sha256 = builtins.hashString "sha256" "readline-${version}";
  };
  outputs = [ "out" "dev" "man" "doc" "info" ];
  strictDeps = true;
  propagatedBuildInputs = [ ncurses ];
  patchFlags = [ "-p0" ];
  upstreamPatches = map (n: "readline82-${lib.fixedWidthNumber 3 n}") (lib.range 1 1);
  configureFlags = [ "--with-curses" ];
  meta.license = lib.licenses.gpl3Plus;
}
