# The library of the realworld corpus: a fixpoint of sub-libraries that see each other
# through `lib`, the way nixpkgs' lib/default.nix is put together.
let
  fix = f: let x = f x; in x;

  lib = fix (self:
    let
      callLibs = file: import file { lib = self; };
    in
    {
      trivial = callLibs ./trivial.nix;
      fixedPoints = callLibs ./fixed-points.nix;
      attrsets = callLibs ./attrsets.nix;
      lists = callLibs ./lists.nix;
      strings = callLibs ./strings.nix;
      customisation = callLibs ./customisation.nix;
      meta = callLibs ./meta.nix;
      versions = callLibs ./versions.nix;
      modules = callLibs ./modules.nix;
      options = callLibs ./options.nix;
      types = callLibs ./types.nix;

      inherit (builtins) mapAttrs attrNames attrValues hasAttr getAttr removeAttrs
        listToAttrs intersectAttrs catAttrs isAttrs isList isBool isInt isPath toJSON
        fromJSON toFile readFile pathExists baseNameOf dirOf seq deepSeq tryEval
        typeOf trace throw abort zipAttrsWith genericClosure splitVersion compareVersions
        parseDrvName hashString;
      inherit (self.meta) licenses maintainers platforms addMetaAttrs lowPrio hiPrio
        availableOn;
      inherit (self.trivial) id const flip pipe concat or and boolToString mod min max
        isFunction functionArgs setFunctionArgs toBaseDigits inNixShell warnIf;
      inherit (self.fixedPoints) fix fix' extends composeExtensions composeManyExtensions
        makeExtensible makeExtensibleWithCustomName;
      inherit (self.attrsets) attrByPath hasAttrByPath setAttrByPath getAttrFromPath
        filterAttrs filterAttrsRecursive foldlAttrs mapAttrs' mapAttrsToList mapAttrsRecursive
        mapAttrsRecursiveCond genAttrs isDerivation nameValuePair optionalAttrs
        recursiveUpdate recursiveUpdateUntil zipAttrsWithNames zipAttrs collect
        cartesianProductOfSets attrVals getOutput getBin getLib getDev getMan;
      inherit (self.lists) foldl foldl' foldr imap0 imap1 flatten remove findFirst any all
        count optional optionals toList range partition unique intersectLists
        subtractLists last init take drop sublist reverseList sort naturalSort listDfs
        toposort groupBy' zipListsWith zipLists elem head tail length elemAt filter map
        concatMap concatLists singleton genList;
      inherit (self.strings) concatStrings concatMapStrings concatImapStrings
        concatStringsSep concatMapStringsSep intersperse optionalString hasPrefix hasSuffix
        hasInfix removePrefix removeSuffix splitString toUpper toLower stringToCharacters
        escapeShellArg escapeShellArgs makeSearchPath makeSearchPathOutput makeBinPath
        makeLibraryPath fixedWidthString fixedWidthNumber replaceStrings stringLength
        substring versionOlder versionAtLeast getName getVersion nameFromURL
        toInt escape isString sanitizeDerivationName withFeature withFeatureAs
        enableFeature;
      inherit (self.customisation) makeOverridable callPackageWith callPackagesWith
        overrideDerivation extendDerivation makeScope hydraJob;
      inherit (self.modules) evalModules mkIf mkMerge mkOverride mkDefault mkOptionDefault
        mkForce mkVMOverride mkOrder mkBefore mkAfter mkAliasDefinitions mkRenamedOptionModule;
      inherit (self.options) mkOption mkEnableOption mkPackageOption isOption literalExpression;
    });
in
lib
