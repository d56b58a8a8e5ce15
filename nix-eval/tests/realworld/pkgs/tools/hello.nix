{ lib, stdenv, pkgs }:
stdenv.mkDerivation (finalAttrs: {
  pname = "hello";
  version = "2.12.1";
  # A local source tree, copied to the store with a filter (like lib.cleanSource).
  src = builtins.path {
    name = "hello-source";
    path = ../../src/hello;
    filter = path: type:
      !(lib.hasSuffix "~" path) && baseNameOf path != "build" && type != "symlink";
  };
  doCheck = true;
  checkPhase = "./hello --version";
  installPhase = ''
    mkdir -p $out/bin
    cp hello $out/bin/hello
  '';
  passthru.tests.run = pkgs.runCommand "hello-test-run" { nativeBuildInputs = [ finalAttrs.finalPackage ]; } ''
    diff -U3 --color=auto <(hello) <(echo 'Hello, world!')
    touch $out
  '';
  meta = with lib; {
    description = "A program that produces a familiar, friendly greeting";
    license = licenses.gpl3Plus;
    maintainers = [ maintainers.carol ];
    platforms = platforms.all;
  };
})
