{ lib, stdenv, fetchurl, readline, ncurses, interactive ? false }:
let
  upstreamPatches = lib.genList (n: "bash51-${lib.fixedWidthNumber 3 (n + 1)}") 16;
in
stdenv.mkDerivation rec {
  pname = "bash${lib.optionalString interactive "-interactive"}";
  version = "5.1-p${toString (lib.length upstreamPatches)}";
  src = fetchurl {
    url = "mirror://gnu/bash/bash-5.1.tar.gz";
    sha256 = builtins.hashString "sha256" "bash-5.1";
  };
  outputs = [ "out" "dev" "man" "doc" "info" ];
  separateDebugInfo = true;
  NIX_CFLAGS_COMPILE = ''
    -DSYS_BASHRC="/etc/bashrc"
    -DSYS_BASH_LOGOUT="/etc/bash_logout"
    -DDEFAULT_PATH_VALUE="/no-such-path"
    -DSTANDARD_UTILS_PATH="/no-such-path"
  '';
  patchFlags = [ "-p0" ];
  patches = map (p: builtins.toFile p "patch ${p}\n") upstreamPatches;
  configureFlags = if interactive then [ "--with-installed-readline" ] else [ "--disable-readline" ];
  buildInputs = lib.optionals interactive [ readline ncurses ];
  postInstall = ''
    ln -s bash "$out/bin/sh"
    rm -f $out/lib/bash/Makefile.inc
  '';
  passthru.shellPath = "/bin/bash";
  meta.license = lib.licenses.gpl3Plus;
}
