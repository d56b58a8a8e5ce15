{ lib, stdenv, fetchurl, zlib, bzip2, xz, libffi, openssl, sqlite, readline, ncurses, expat
, newScope, writeText, buildEnv, packageOverrides ? (final: prev: { }), sourceVersion ? { major = "3"; minor = "10"; patch = "8"; } }:
let
  version = with sourceVersion; "${major}.${minor}.${patch}";
  pythonVersion = with sourceVersion; "${major}.${minor}";
  libPrefix = "python${pythonVersion}";
  sitePackages = "lib/${libPrefix}/site-packages";

  self = stdenv.mkDerivation {
    pname = "python3";
    inherit version;
    src = fetchurl {
      url = "https://www.python.example.org/ftp/python/${version}/Python-${version}.tar.xz";
      sha256 = builtins.hashString "sha256" "Python-${version}";
    };
    outputs = [ "out" ];
    buildInputs = [ zlib bzip2 xz libffi openssl sqlite readline ncurses expat ];
    configureFlags = [
      "--enable-shared"
      "--with-system-expat"
      "--with-system-ffi"
      "--without-ensurepip"
      "--enable-optimizations"
    ];
    setupHook = writeText "python-setup-hook.sh" ''
      addPythonPath() {
        addToSearchPath PYTHONPATH "$1/${sitePackages}"
      }
      addEnvHooks "$hostOffset" addPythonPath
    '';
    postInstall = ''
      ln -s "$out/bin/python3" "$out/bin/python"
      rm -r $out/lib/${libPrefix}/test
    '';
    passthru = {
      inherit libPrefix sitePackages pythonVersion sourceVersion;
      executable = libPrefix;
      isPy3 = true;
      pkgs = pythonPackages;
      withPackages = f: buildEnv { name = "${libPrefix}-env"; paths = [ self ] ++ f pythonPackages; };
      interpreter = "${self}/bin/python3";
    };
    meta.license = { fullName = "Python Software Foundation License version 2"; free = true; };
  };

  pythonPackages = lib.makeScope newScope
    (lib.extends packageOverrides (import ../python/python-packages.nix { inherit lib stdenv fetchurl; python = self; }));
in
self
