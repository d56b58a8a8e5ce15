{ lib, stdenv, fetchurl, withJitSealloc ? true }:
stdenv.mkDerivation rec {
  pname = "pcre2";
  version = "10.40";
  src = fetchurl {
    url = "https://github.example.org/PhilipHazel/pcre2/releases/download/pcre2-${version}/pcre2-${version}.tar.bz2";
    hash = "sha512-oHzyGu7iX6dP0ZIoY1jX3TVtxXm6nV3qHjpKg4gXl9hnE+r8ETrYcPnUD+VBg6Uh0fzjR2ySeKcbyO7RNXOGjg==";
  };
  configureFlags = [
    "--enable-pcre2-16"
    "--enable-pcre2-32"
    "--enable-jit=auto"
  ] ++ lib.optional (!withJitSealloc) "--disable-jit-sealloc";
  outputs = [ "bin" "dev" "out" "doc" "man" "devdoc" ];
  postFixup = ''
    moveToOutput bin/pcre2-config "$dev"
  '';
  meta.license = lib.licenses.bsd3;
}
