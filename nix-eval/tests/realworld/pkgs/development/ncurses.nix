{ lib, stdenv, fetchurl, pkg-config, abiVersion ? "6", enableStatic ? false, withCxx ? true }:
stdenv.mkDerivation (finalAttrs: {
  pname = "ncurses";
  version = "6.3-p20220507";
  src = fetchurl {
    url = "https://invisible-island.example.net/archives/ncurses/current/ncurses-${finalAttrs.version}.tgz";
    sha256 = "0b0bnmfb6b0lbrg2ap8h4pwk9y7byh9nd6s4a8hd0fwwvyk1j10y";
  };
  outputs = [ "out" "dev" "man" ];
  setOutputFlags = false;
  configureFlags = [
    (lib.withFeature (!enableStatic) "shared")
    "--without-debug"
    "--enable-pc-files"
    "--enable-symlinks"
    "--with-manpage-format=normal"
    "--disable-stripping"
    "--with-versioned-syms"
  ] ++ lib.optional (abiVersion == "5") "--with-abi-version=5"
    ++ lib.optional (!withCxx) "--without-cxx";
  strictDeps = true;
  depsBuildBuild = [ ];
  nativeBuildInputs = [ pkg-config ];
  enableParallelBuilding = true;
  passthru = {
    inherit abiVersion;
    ldflags = "-lncurses";
  };
  meta = with lib; {
    description = "Free software emulation of curses in SVR4 and more";
    license = licenses.mit;
    platforms = platforms.all;
  };
})
