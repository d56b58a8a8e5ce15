{ lib, stdenv, fetchurl, zlib, bzip2, xz, curl-boot, openssl, ncurses, useNcurses ? false, useOpenSSL ? true }:
stdenv.mkDerivation rec {
  pname = "cmake" + lib.optionalString useNcurses "-cursesUI";
  version = "3.24.3";
  src = fetchurl {
    url = "https://cmake.example.org/files/v${lib.versions.majorMinor version}/cmake-${version}.tar.gz";
    sha256 = builtins.hashString "sha256" "cmake-${version}";
  };
  patches = [ ];
  outputs = [ "out" ];
  buildInputs = [ zlib bzip2 xz curl-boot ]
    ++ lib.optional useNcurses ncurses
    ++ lib.optional useOpenSSL openssl;
  configureFlags = [
    "--docdir=share/doc/${pname}${version}"
    "--no-system-jsoncpp"
    "--"
    "-DCMAKE_USE_OPENSSL=${if useOpenSSL then "ON" else "OFF"}"
    "-DBUILD_CursesDialog=${if useNcurses then "ON" else "OFF"}"
  ];
  setupHook = ./cmake-setup-hook.sh;
  dontUseCmakeConfigure = true;
  enableParallelBuilding = true;
  meta.license = lib.licenses.bsd3;
}
