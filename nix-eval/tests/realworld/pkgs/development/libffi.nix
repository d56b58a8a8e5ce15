{ lib, stdenv, fetchurl, doCheck ? false }:
stdenv.mkDerivation (finalAttrs: {
  pname = "libffi";
  version = "3.4.4";
  src = fetchurl {
    url = "https://github.example.org/libffi/libffi/releases/download/v${finalAttrs.version}/libffi-${finalAttrs.version}.tar.gz";
    hash = "sha256-1mxWrSWags8qnfxAizK/XaUjcVALhHRff7i2RXEt9nY=";
  };
  outputs = [ "out" "dev" "man" "info" ];
  configureFlags = [ "--with-gcc-arch=generic" "--enable-pax_emutramp" ];
  preCheck = "patchShebangs testsuite";
  inherit doCheck;
  dontStrip = stdenv.hostPlatform.isDarwin;
  passthru.tests.pkg-config = "check ${finalAttrs.pname} ${finalAttrs.version}";
  meta.license = lib.licenses.mit;
})
