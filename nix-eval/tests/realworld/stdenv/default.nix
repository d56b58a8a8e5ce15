# A standard environment in three stages, like nixpkgs' stdenv/linux: a fixed-output
# bootstrap tarball, a stage-0 environment built from it, and the final environment whose
# tools were built by stage 0. Nothing here is ever built: the corpus is only instantiated.
{ lib, system }:
let
  fetchurlBoot = import ./fetchurl.nix { inherit lib system; shell = "/bin/sh"; curl = null; };

  bootstrapTools = fetchurlBoot {
    url = "http://tarballs.example.org/stdenv-linux/x86_64/bootstrap-tools.tar.xz";
    sha256 = "0m69255a7dnlc7l6rq84iaz9i4gj3mjrmjrrq0qnhahs2pfh8g1k";
    recursiveHash = true;
    name = "bootstrap-tools";
  };

  setupScript = builtins.toFile "setup.sh" (builtins.readFile ./setup.sh);
  defaultBuilder = builtins.toFile "default-builder.sh" ''
    source $stdenv/setup
    genericBuild
  '';

  mkStdenv = import ./generic.nix { inherit lib system setupScript defaultBuilder; };

  stage0 = mkStdenv {
    name = "bootstrap-stage0-stdenv-linux";
    shell = "${bootstrapTools}/bin/bash";
    initialPath = [ bootstrapTools ];
    cc = null;
    fetchurl = fetchurlBoot;
  };

  # Tools built by stage 0, used by the final environment.
  stage1Tools = lib.genAttrs [ "bash" "coreutils" "gnused" "gnugrep" "gawk" "gnutar" "gzip" "xz" "binutils" "gcc" ]
    (name: stage0.mkDerivation (finalAttrs: {
      pname = "${name}-stage1";
      version = "1.0";
      src = fetchurlBoot {
        url = "mirror://gnu/${name}/${name}-1.0.tar.xz";
        sha256 = builtins.hashString "sha256" "stage1-${name}";
      };
      configureFlags = [ "--disable-nls" "--prefix=${placeholder "out"}" ];
      enableParallelBuilding = true;
      passthru.isStage1 = true;
    }));

  ccWrapper = stage0.mkDerivation {
    name = "gcc-wrapper-1.0";
    cc = stage1Tools.gcc;
    bintools = stage1Tools.binutils;
    buildCommand = ''
      mkdir -p $out/bin
      ln -s $cc/bin/gcc $out/bin/cc
      echo "${stage1Tools.binutils}" > $out/nix-support/bintools
    '';
    passthru.isGNU = true;
  };

  stdenv = mkStdenv {
    name = "stdenv-linux";
    shell = "${stage1Tools.bash}/bin/bash";
    initialPath = with stage1Tools; [ coreutils gnused gnugrep gawk gnutar gzip xz ];
    cc = ccWrapper;
    fetchurl = fetchurlBoot;
    extraAttrs = { inherit bootstrapTools stage0; };
  };
in
stdenv
