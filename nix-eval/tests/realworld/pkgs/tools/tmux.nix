{ lib, stdenv, fetchurl, ncurses, libevent, pkg-config }:
let
  bashCompletion = fetchurl {
    url = "https://raw.githubusercontent.example.org/imomaliev/tmux-bash-completion/f5d53239f7658f8e8fbaf02535cc369009c436d6/completions/tmux";
    sha256 = "0bbd2c3d0b7ae2d35b7cb8ff4a9d0b3c2d1c6bf3d2a1b3f5d6a7d9b8c3e4f5a6";
  };
in
stdenv.mkDerivation rec {
  pname = "tmux";
  version = "3.3a";
  outputs = [ "out" "man" ];
  src = fetchurl {
    url = "https://github.example.org/tmux/tmux/releases/download/${version}/tmux-${version}.tar.gz";
    sha256 = builtins.hashString "sha256" "tmux-${version}";
  };
  nativeBuildInputs = [ pkg-config ];
  buildInputs = [ ncurses libevent ];
  configureFlags = [ "--sysconfdir=/etc" "--localstatedir=/var" ];
  enableParallelBuilding = true;
  postInstall = ''
    mkdir -p $out/share/bash-completion/completions
    cp -v ${bashCompletion} $out/share/bash-completion/completions/tmux
  '';
  meta.license = lib.licenses.bsd3;
}
