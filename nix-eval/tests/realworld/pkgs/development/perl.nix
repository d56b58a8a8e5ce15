{ lib, stdenv, fetchurl, zlib, enableThreading ? true }:
let
  libc = "/usr";
in
stdenv.mkDerivation (finalAttrs: {
  pname = "perl";
  version = "5.36.0";
  src = fetchurl {
    url = "mirror://cpan/src/5.0/perl-${finalAttrs.version}.tar.gz";
    sha256 = builtins.hashString "sha256" "perl-${finalAttrs.version}";
  };
  outputs = [ "out" "man" "devdoc" ];
  patches = [ ../../patches/perl-no-sys-dirs.patch ];
  configureScript = "${stdenv.shell} ./Configure";
  configureFlags = [
    "-de"
    "-Dcc=cc"
    "-Uinstallusrbinperl"
    "-Dinstallstyle=lib/perl5"
    "-Duseshrplib"
    "-Dlocincpth=${libc}/include"
    "-Dloclibpth=${libc}/lib"
  ] ++ lib.optional enableThreading "-Dusethreads";
  dontAddPrefix = true;
  setupHook = builtins.toFile "perl-setup-hook.sh" ''
    addPerlLibPath () {
      addToSearchPath PERL5LIB $1/lib/perl5/site_perl
    }
    addEnvHooks "$targetOffset" addPerlLibPath
  '';
  passthru = {
    libPrefix = "lib/perl5/site_perl";
    inherit (finalAttrs) version;
    withPackages = f: "perl-with-${toString (lib.length (f { }))}-packages";
  };
  meta.license = lib.licenses.gpl2Plus;
})
