# The hand-written packages, as the first overlay over the trivial builders.
final: prev:
let
  inherit (final) callPackage callPackages lib;
in
{
  # development
  zlib = callPackage ./development/zlib.nix { };
  zlibStatic = final.zlib.override { static = true; shared = false; };
  openssl = callPackage ./development/openssl.nix { };
  openssl_1_1 = final.openssl.overrideAttrs (old: {
    version = "1.1.1s";
    src = final.fetchurl {
      url = "https://www.openssl.example.org/source/openssl-1.1.1s.tar.gz";
      sha256 = "1zy5xwj3d0ahqh3xvmgb6fc2jm2gcvwi8gcmx8a6z7w6k2w4hgbq";
    };
    patches = [ ];
  });
  bzip2 = callPackage ./development/bzip2.nix { };
  xz = callPackage ./development/xz.nix { };
  libffi = callPackage ./development/libffi.nix { };
  ncurses = callPackage ./development/ncurses.nix { };
  ncurses5 = final.ncurses.override { abiVersion = "5"; };
  readline = callPackage ./development/readline.nix { };
  sqlite = callPackage ./development/sqlite.nix { };
  expat = callPackage ./development/expat.nix { };
  pcre2 = callPackage ./development/pcre2.nix { };
  libxml2 = callPackage ./development/libxml2.nix { };
  libxml2Python = final.libxml2.override { pythonSupport = true; };
  libevent = callPackage ./development/libevent.nix { };
  perl = callPackage ./development/perl.nix { };
  python3 = callPackage ./development/python.nix { };
  python3Packages = final.python3.pkgs;
  cmake = callPackage ./development/cmake.nix { };
  pkg-config = callPackage ./development/pkg-config.nix { };

  # tools
  inherit (callPackages ./tools/gnu.nix { }) coreutils gnused gnugrep gawk gnumake gnutar;
  bash = callPackage ./tools/bash.nix { };
  bashInteractive = final.bash.override { interactive = true; };
  curl = callPackage ./tools/curl.nix { };
  curlMinimal = final.curl.override { http2Support = false; zlibSupport = false; };
  git = callPackage ./tools/git.nix { };
  gitMinimal = final.git.override { perlSupport = false; pythonSupport = false; withManual = false; };
  hello = callPackage ./tools/hello.nix { };
  greet = callPackage ./tools/greet.nix { };
  jq = callPackage ./tools/jq.nix { };
  htop = callPackage ./tools/htop.nix { };
  tmux = callPackage ./tools/tmux.nix { };

  # servers
  nginx = callPackage ./servers/nginx.nix { };
  nginxMainline = final.nginx.overrideAttrs (finalAttrs: old: {
    version = "1.23.2";
    src = final.fetchurl {
      url = "https://nginx.example.org/download/nginx-${finalAttrs.version}.tar.gz";
      sha256 = builtins.hashString "sha256" "nginx-${finalAttrs.version}";
    };
  });
  openssh = callPackage ./servers/openssh.nix { };
  postgresql = callPackage ./servers/postgresql.nix { };
  postgresql_14 = final.postgresql.override { version = "14.6"; };
  redis = callPackage ./servers/redis.nix { };

  # environments and helpers
  devTools = final.symlinkJoin {
    name = "dev-tools";
    paths = with final; [ git gnumake cmake pkg-config jq ];
  };
  userEnv = final.buildEnv {
    name = "user-env";
    paths = with final; [ hello greet htop tmux ];
    extraOutputsToInstall = [ "man" "doc" ];
  };
  motd = final.writeText "motd" ''
    Welcome to the realworld corpus.
    Tools: ${lib.concatMapStringsSep ", " lib.getName [ final.git final.hello final.jq ]}
  '';
  helloScript = final.writeShellScriptBin "say-hello" ''
    exec ${final.hello}/bin/hello --greeting="from a script"
  '';
}
