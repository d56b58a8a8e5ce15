{ lib }:
let
  inherit (builtins) intersectAttrs removeAttrs isAttrs attrNames;
in
rec {
  # Calls `f origArgs` and lets the caller redo the call with changed arguments through
  # `.override`, keeping `overrideAttrs` working across overrides.
  makeOverridable = f: origArgs:
    let
      result = f origArgs;
      copyArgs = g: lib.setFunctionArgs g (lib.functionArgs f);
      overrideWith = newArgs:
        origArgs // (if lib.isFunction newArgs then newArgs origArgs else newArgs);
      overrideResult = g: makeOverridable (copyArgs (args: g (f args))) origArgs;
    in
    if isAttrs result then
      result // {
        override = newArgs: makeOverridable f (overrideWith newArgs);
        overrideDerivation = fdrv: overrideResult (x: overrideDerivation x fdrv);
        ${if result ? overrideAttrs then "overrideAttrs" else null} =
          fdrv: overrideResult (x: x.overrideAttrs fdrv);
      }
    else if lib.isFunction result then
      lib.setFunctionArgs result (lib.functionArgs result) // {
        override = newArgs: makeOverridable f (overrideWith newArgs);
      }
    else result;

  # Calls a package function with the arguments it asks for taken from `autoArgs`,
  # explicit `args` winning. A missing argument is reported with a suggestion.
  callPackageWith = autoArgs: fn: args:
    let
      f = if lib.isFunction fn then fn else import fn;
      fargs = lib.functionArgs f;
      allArgs = intersectAttrs fargs autoArgs // args;
      missingArgs = lib.filterAttrs (name: hasDefault: !hasDefault)
        (removeAttrs fargs (attrNames allArgs));
      error = "Function called without required argument \"${builtins.head (attrNames missingArgs)}\"";
    in
    if missingArgs == { } then makeOverridable f allArgs else abort error;

  # Like callPackageWith, for functions returning a set of packages.
  callPackagesWith = autoArgs: fn: args:
    let
      f = if lib.isFunction fn then fn else import fn;
      auto = intersectAttrs (lib.functionArgs f) autoArgs;
      origArgs = auto // args;
      pkgs = f origArgs;
      mkAttrOverridable = name: _: makeOverridable (newArgs: (f newArgs).${name}) origArgs;
    in
    if lib.isDerivation pkgs then throw "function returned a derivation"
    else builtins.mapAttrs mkAttrOverridable pkgs;

  overrideDerivation = drv: f:
    let
      newDrv = derivation (drv.drvAttrs // (f drv));
    in
    lib.flip (extendDerivation (builtins.seq drv.drvPath true)) newDrv ({
      meta = drv.meta or { };
      passthru = if drv ? passthru then drv.passthru else { };
    } // (drv.passthru or { }));

  # Adds `passthru` to a derivation and to each of its outputs, asserting `condition`
  # when any of them is used.
  extendDerivation = condition: passthru: drv:
    let
      outputs = drv.outputs or [ "out" ];
      commonAttrs = drv // (builtins.listToAttrs outputsList)
        // { all = map (x: x.value) outputsList; } // passthru;
      outputToAttrListElement = outputName: {
        name = outputName;
        value = commonAttrs // {
          inherit (drv.${outputName}) type outputName;
          outputSpecified = true;
          drvPath = assert condition; drv.${outputName}.drvPath;
          outPath = assert condition; drv.${outputName}.outPath;
        };
      };
      outputsList = map outputToAttrListElement outputs;
    in
    commonAttrs // {
      drvPath = assert condition; drv.drvPath;
      outPath = assert condition; drv.outPath;
    };

  # A package scope: `callPackage` sees the scope's own members first.
  makeScope = newScope: f:
    let
      self = f self // {
        newScope = scope: newScope (self // scope);
        callPackage = self.newScope { };
        overrideScope = g: makeScope newScope (lib.extends g f);
        packages = f;
      };
    in
    self;

  hydraJob = drv: drv // { meta = removeAttrs (drv.meta or { }) [ "maintainers" ]; };
}
