# The realworld corpus: what `nix-instantiate default.nix` instantiates.
let
  pkgs = import ./pkgs { overlays = import ./overlays; };
  inherit (pkgs) lib;
  nixos = import ./nixos { inherit pkgs; };

  hand = [ "zlib" "zlibStatic" "openssl" "openssl_1_1" "bzip2" "xz" "libffi" "ncurses" "ncurses5"
    "readline" "sqlite" "expat" "pcre2" "libxml2" "libxml2Python" "libevent" "perl" "python3"
    "cmake" "pkg-config" "coreutils" "gnused" "gnugrep" "gawk" "gnumake" "gnutar" "bash"
    "bashInteractive" "curl" "curlMinimal" "git" "gitMinimal" "hello" "greet" "jq" "htop" "tmux"
    "nginx" "nginxMainline" "nginxWithStatus" "openssh" "postgresql" "postgresql_14" "redis"
    "devTools" "userEnv" "motd" "helloScript" "pythonEnv" ];
in
lib.genAttrs hand (n: pkgs.${n})
// {
  # The generated packages, one level down as nixpkgs' package sets are.
  generated = lib.listToAttrs (map (s: lib.nameValuePair s.name pkgs.${s.name}) pkgs.generatedSpecs)
    // { recurseForDerivations = true; };
  python3Packages = lib.filterAttrs (n: v: lib.isDerivation v) pkgs.python3Packages
    // { recurseForDerivations = true; };
  tests = {
    recurseForDerivations = true;
    hello-run = pkgs.hello.tests.run;
    curl-withCheck = pkgs.curl.tests.withCheck;
    git-withInstallCheck = pkgs.git.tests.withInstallCheck;
  };
  stdenvStages = {
    recurseForDerivations = true;
    stdenv = pkgs.stdenv;
    stage0 = pkgs.stdenv.stage0;
    bootstrapTools = pkgs.stdenv.bootstrapTools;
  };
  inherit nixos;
  # Not a derivation and not marked for recursion: nix-instantiate skips it.
  lib' = { notRecursed = pkgs.hello; };
}
