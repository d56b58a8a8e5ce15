# Several GNU packages from one function (called with callPackages).
{ lib, stdenv, fetchurl, perl }:
let
  gnuPackage = { pname, version, outputs ? [ "out" "info" ], extra ? { } }:
    stdenv.mkDerivation ({
      inherit pname version outputs;
      src = fetchurl {
        url = "mirror://gnu/${pname}/${pname}-${version}.tar.xz";
        sha256 = builtins.hashString "sha256" "gnu-${pname}-${version}";
      };
      enableParallelBuilding = true;
      meta = {
        homepage = "https://www.gnu.example.org/software/${pname}/";
        license = lib.licenses.gpl3Plus;
        platforms = lib.platforms.unix;
      };
    } // extra);
in
{
  coreutils = gnuPackage {
    pname = "coreutils";
    version = "9.1";
    outputs = [ "out" "info" ];
    extra = {
      nativeBuildInputs = [ perl ];
      configureFlags = [ "--enable-single-binary=symlinks" "--with-packager=realworld" ];
      doCheck = true;
      FORCE_UNSAFE_CONFIGURE = 1;
    };
  };
  gnused = gnuPackage { pname = "sed"; version = "4.9"; extra.preConfigure = "patchShebangs ./build-aux/help2man"; };
  gnugrep = gnuPackage { pname = "grep"; version = "3.7"; extra = { doCheck = false; passthru.binaries = [ "grep" "egrep" "fgrep" ]; }; };
  gawk = gnuPackage { pname = "gawk"; version = "5.1.1"; outputs = [ "out" "info" "man" ]; extra.configureFlags = [ "--without-libsigsegv" ]; };
  gnumake = gnuPackage { pname = "make"; version = "4.3"; outputs = [ "out" "man" "info" ]; extra.patches = [ ../../patches/make-impure-dirs.patch ]; };
  gnutar = gnuPackage { pname = "tar"; version = "1.34"; extra.FORCE_UNSAFE_CONFIGURE = true; };
}
