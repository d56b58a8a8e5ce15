{ lib, stdenv, fetchurl, zlib, readline, openssl, libxml2, pkg-config, version ? "15.1", enableSystemd ? false }:
let
  atLeast = lib.versionAtLeast version;
in
stdenv.mkDerivation rec {
  pname = "postgresql";
  inherit version;
  src = fetchurl {
    url = "mirror://postgresql/source/v${version}/${pname}-${version}.tar.bz2";
    sha256 = builtins.hashString "sha256" "${pname}-${version}";
  };
  outputs = [ "out" "lib" "doc" "man" ];
  setOutputFlags = false;
  buildInputs = [ zlib readline openssl libxml2 ];
  nativeBuildInputs = [ pkg-config ];
  enableParallelBuilding = !stdenv.isDarwin;
  separateDebugInfo = true;
  buildFlags = [ "world" ];
  NIX_CFLAGS_COMPILE = "-I${libxml2.dev}/include/libxml2";
  configureFlags = [
    "--with-openssl"
    "--with-libxml"
    "--sysconfdir=/etc"
    "--libdir=$(lib)/lib"
    "--with-system-tzdata=/etc/zoneinfo"
    "--enable-debug"
  ] ++ lib.optionals (atLeast "15") [ "--with-lz4=no" ]
    ++ lib.optional enableSystemd "--with-systemd";
  passthru = {
    psqlSchema = lib.versions.major version;
    inherit (lib.versions) majorMinor;
  };
  meta.license = { fullName = "PostgreSQL License"; free = true; };
}
