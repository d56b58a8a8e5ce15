{ lib, stdenv, hello, jq }:
# Structured attributes: the whole argument set goes to the builder as JSON.
stdenv.mkDerivation {
  pname = "greet";
  version = "0.3.0";
  src = ../../src/greet;
  __structuredAttrs = true;
  nativeBuildInputs = [ jq ];
  buildInputs = [ hello ];
  greetings = {
    en = "Hello";
    fr = "Bonjour";
    de = "Hallo";
  };
  languages = [ "en" "fr" "de" ];
  retries = 3;
  verbose = false;
  ratio = 0.75;
  installPhase = ''
    mkdir -p $out/bin
    cp greet.sh $out/bin/greet
  '';
  meta.license = lib.licenses.mit;
}
