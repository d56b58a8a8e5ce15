# One standard environment: a derivation holding the setup script, plus `mkDerivation`.
{ lib, system, setupScript, defaultBuilder }:
{ name, shell, initialPath, cc, fetchurl, extraAttrs ? { } }:
let
  stdenvDrv = derivation {
    inherit name system;
    builder = shell;
    args = [ "-e" (builtins.toFile "stdenv-builder.sh" ''
      mkdir $out
      cp $setup $out/setup
      echo "initialPath=\"$initialPath\"" >> $out/setup
    '') ];
    setup = setupScript;
    inherit initialPath;
    ${if cc != null then "cc" else null} = cc;
    preHook = ''
      export NIX_ENFORCE_PURITY=1
      export LC_ALL=C
    '';
  };

  # The finalAttrs fixpoint: `mkDerivation (finalAttrs: { … })` sees its own final attributes.
  makeDerivationExtensible = rattrs:
    let
      args = rattrs (args // { inherit finalPackage overrideAttrs; });
      finalPackage = mkDerivationSimple overrideAttrs args;
      overrideAttrs = f0:
        let
          f = self: super:
            let x = f0 super;
            in if lib.isFunction x then f0 self super else x;
        in
        makeDerivationExtensible (self: let super = rattrs self; in super // f self super);
    in
    finalPackage;

  mkDerivation = fpargs:
    makeDerivationExtensible (if lib.isFunction fpargs then fpargs else (_: fpargs));

  removedAttrs = [ "meta" "passthru" "pos" "nativeCheckInputs" "checkInputs" "realBuilder"
    "finalPackage" "overrideAttrs" "propagatedNativeBuildInputs" ];

  mkDerivationSimple = overrideAttrs: attrs:
    let
      name = attrs.name or "${attrs.pname}-${attrs.version}";
      outputs = attrs.outputs or [ "out" ];
      doCheck = attrs.doCheck or false;
      nativeBuildInputs = attrs.nativeBuildInputs or [ ];
      buildInputs = attrs.buildInputs or [ ];
      propagatedBuildInputs = attrs.propagatedBuildInputs or [ ];
      checkInputs = lib.optionals doCheck ((attrs.nativeCheckInputs or [ ]) ++ (attrs.checkInputs or [ ]));
      sanitized = lib.sanitizeDerivationName name;

      derivationArg = removeAttrs attrs removedAttrs // {
        name = sanitized;
        inherit system outputs;
        builder = attrs.realBuilder or shell;
        args = attrs.args or [ "-e" (attrs.builder or defaultBuilder) ];
        stdenv = stdenvDrv;
        nativeBuildInputs = map lib.getDev (nativeBuildInputs ++ checkInputs)
          ++ lib.optional (cc != null) cc;
        buildInputs = map lib.getDev buildInputs;
        propagatedBuildInputs = map lib.getDev propagatedBuildInputs;
        propagatedNativeBuildInputs = attrs.propagatedNativeBuildInputs or [ ];
        doCheck = doCheck;
        strictDeps = attrs.strictDeps or true;
        __ignoreNulls = true;
      } // lib.optionalAttrs (attrs ? separateDebugInfo && attrs.separateDebugInfo) {
        outputs = outputs ++ [ "debug" ];
      };

      meta = {
        name = sanitized;
        available = lib.availableOn { inherit system; } { meta = attrs.meta or { }; };
        outputsToInstall = [ (if lib.elem "bin" outputs then "bin" else lib.head outputs) ];
      } // (attrs.meta or { });

      broken = meta.broken or false;
      validity =
        if broken then throw "Package ‘${name}’ is marked as broken, refusing to evaluate."
        else if !(meta.license.free or true) && !(attrs.allowUnfree or false)
        then throw "Package ‘${name}’ has an unfree license, refusing to evaluate."
        else true;

      drv = derivation derivationArg;
    in
    lib.extendDerivation validity
      ({ inherit meta overrideAttrs; passthru = attrs.passthru or { }; } // (attrs.passthru or { }))
      drv;

  stdenv = stdenvDrv // {
    inherit mkDerivation shell initialPath cc fetchurl system;
    hostPlatform = { inherit system; isLinux = true; isDarwin = false; is64bit = true; };
    buildPlatform = stdenv.hostPlatform;
    isLinux = true;
    isDarwin = false;
    # A variant without a C compiler, for fetchers and trivial builders.
    __stdenvNoCC = null;
  } // extraAttrs;
in
stdenv
