# The package set: a fixpoint of the base packages extended by overlays, as nixpkgs'
# pkgs/top-level/stage.nix does it.
{ overlays ? [ ], system ? "x86_64-linux", config ? { } }:
let
  lib = import ../lib;

  stdenv = import ../stdenv { inherit lib system; };

  allPackages = import ./all-packages.nix;
  generated = import ./generated.nix;

  # Trivial builders and the fetchers, which do not come from callPackage.
  trivial = final: prev: {
    inherit lib stdenv config;
    pkgs = final;
    callPackage = lib.callPackageWith final;
    callPackages = lib.callPackagesWith final;
    newScope = extra: lib.callPackageWith (final // extra);
    fetchurl = import ../stdenv/fetchurl.nix { inherit lib system; shell = stdenv.shell; curl = final.curl-boot; };
    curl-boot = stdenv.stage0.mkDerivation {
      pname = "curl-boot";
      version = "7.86.0";
      src = stdenv.fetchurl {
        url = "https://curl.example.org/download/curl-7.86.0.tar.xz";
        hash = "sha256-LpnTTJc2wwPfD3JFf/VfJGXD8/kPbYOdOZtwgDk4Ga8=";
      };
      configureFlags = [ "--without-ssl" "--disable-shared" ];
    };
  } // import ./trivial-builders.nix { inherit lib stdenv; };

  # Reads `config.packageOverrides` like nixpkgs' configOverrides.
  configOverrides = final: prev: (config.packageOverrides or (p: { })) prev;

  toFix = lib.foldl' (lib.flip lib.extends) (final: { })
    ([ trivial allPackages generated configOverrides ] ++ overlays);
in
lib.fix toFix
