{ lib, stdenv, fetchurl, zlib, readline, ncurses, interactive ? false }:
let
  archiveVersion = version:
    let
      fragments = lib.splitVersion version;
      major = lib.head fragments;
      minor = lib.concatMapStrings (lib.fixedWidthNumber 2) (map lib.toInt (lib.tail fragments));
    in
    major + minor + "00";
  version = "3.40.0";
in
stdenv.mkDerivation {
  pname = "sqlite${lib.optionalString interactive "-interactive"}";
  inherit version;
  src = fetchurl {
    url = "https://sqlite.example.org/2022/sqlite-autoconf-${archiveVersion version}.tar.gz";
    sha256 = builtins.hashString "sha256" (archiveVersion version);
  };
  outputs = [ "bin" "dev" "out" ];
  separateDebugInfo = stdenv.isLinux;
  buildInputs = [ zlib ] ++ lib.optionals interactive [ readline ncurses ];
  configureFlags = [ "--enable-threadsafe" ] ++ lib.optional interactive "--enable-readline";
  NIX_CFLAGS_COMPILE = toString [
    "-DSQLITE_ENABLE_COLUMN_METADATA"
    "-DSQLITE_ENABLE_DBSTAT_VTAB"
    "-DSQLITE_ENABLE_JSON1"
    "-DSQLITE_ENABLE_FTS3"
    "-DSQLITE_MAX_VARIABLE_NUMBER=250000"
  ];
  doCheck = false;
  passthru = { inherit archiveVersion; };
  meta.platforms = lib.platforms.unix;
}
