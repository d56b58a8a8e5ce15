{ pkgs ? import <nixpkgs> {} }:
pkgs.mkShell {
  buildInputs = with pkgs; [ git (python3.withPackages (p: [ p.requests ])) ];
  shellHook = ''
    echo "hi ${pkgs.hello.name}"
    export X=''${HOME}
  '';
}
