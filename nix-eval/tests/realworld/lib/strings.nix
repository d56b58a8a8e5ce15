{ lib }:
let
  inherit (builtins) length elemAt substring stringLength concatStringsSep filter isString
    split replaceStrings head;
in
rec {
  inherit (builtins) concatStringsSep replaceStrings stringLength substring isString;

  concatStrings = concatStringsSep "";
  concatMapStrings = f: list: concatStrings (map f list);
  concatImapStrings = f: list: concatStrings (lib.imap1 f list);
  concatMapStringsSep = sep: f: list: concatStringsSep sep (map f list);

  intersperse = separator: list:
    if list == [ ] || length list == 1 then list
    else builtins.tail (lib.concatMap (x: [ separator x ]) list);

  withFeature = flag: feat: "--${if flag then "with" else "without"}-${feat}";
  withFeatureAs = flag: feat: value: if flag then "--with-${feat}=${value}" else "--without-${feat}";
  enableFeature = flag: feat: "--${if flag then "enable" else "disable"}-${feat}";
  optionalString = cond: string: if cond then string else "";

  hasPrefix = pref: str: substring 0 (stringLength pref) str == pref;
  hasSuffix = suffix: content:
    let
      lenContent = stringLength content;
      lenSuffix = stringLength suffix;
    in
    lenContent >= lenSuffix && substring (lenContent - lenSuffix) lenContent content == suffix;

  hasInfix = infix: content: builtins.match ".*${escapeRegex infix}.*" "${content}" != null;

  removePrefix = prefix: str:
    let preLen = stringLength prefix; in
    if substring 0 preLen str == prefix
    then substring preLen (stringLength str - preLen) str
    else str;

  removeSuffix = suffix: str:
    let
      sufLen = stringLength suffix;
      sLen = stringLength str;
    in
    if sufLen <= sLen && suffix == substring (sLen - sufLen) sufLen str
    then substring 0 (sLen - sufLen) str
    else str;

  stringToCharacters = s: lib.genList (p: substring p 1 s) (stringLength s);

  escape = list: replaceStrings list (map (c: "\\${c}") list);

  escapeRegex = escape (stringToCharacters "\\[{()^$?*+|.");

  splitString = sep: s:
    let splits = filter isString (split (escapeRegex sep) s);
    in map (v: addContextFrom s v) splits;

  addContextFrom = a: b: substring 0 0 a + b;

  lowerChars = stringToCharacters "abcdefghijklmnopqrstuvwxyz";
  upperChars = stringToCharacters "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  toLower = replaceStrings upperChars lowerChars;
  toUpper = replaceStrings lowerChars upperChars;

  escapeShellArg = arg: "'${replaceStrings [ "'" ] [ "'\\''" ] (toString arg)}'";
  escapeShellArgs = concatMapStringsSep " " escapeShellArg;

  makeSearchPath = subDir: paths:
    concatStringsSep ":" (map (path: path + "/" + subDir) (filter (x: x != null) paths));

  makeSearchPathOutput = output: subDir: pkgs:
    makeSearchPath subDir (map (lib.getOutput output) pkgs);

  makeLibraryPath = makeSearchPathOutput "lib" "lib";
  makeBinPath = makeSearchPathOutput "bin" "bin";

  fixedWidthString = width: filler: str:
    let
      strw = stringLength str;
      reqWidth = width - (stringLength filler);
    in
    assert strw <= width;
    if strw == width then str else filler + fixedWidthString reqWidth filler str;

  fixedWidthNumber = width: n: fixedWidthString width "0" (toString n);

  versionOlder = v1: v2: builtins.compareVersions v2 v1 == 1;
  versionAtLeast = v1: v2: !versionOlder v1 v2;

  getName = x:
    let parse = drv: (builtins.parseDrvName drv).name;
    in if isString x then parse x else x.pname or (parse x.name);

  getVersion = x:
    let parse = drv: (builtins.parseDrvName drv).version;
    in if isString x then parse x else x.version or (parse x.name);

  nameFromURL = url: sep:
    let
      components = splitString "/" url;
      filename = lib.last components;
      name = head (splitString sep filename);
    in
    assert name != filename; name;

  toInt = str:
    let may = builtins.match "[[:space:]]*(-?[0-9]+)[[:space:]]*" str;
    in if may == null then throw "could not convert '${str}' to an integer"
       else builtins.fromJSON (head may);

  # Replaces characters not allowed in store path names with '-' and trims leading dots.
  sanitizeDerivationName =
    let okRegex = builtins.match "^[[:alnum:]+_?=-][[:alnum:]+._?=-]*$";
    in string:
      if stringLength string <= 207 && okRegex string != null
      then builtins.unsafeDiscardStringContext string
      else
        lib.pipe string [
          builtins.unsafeDiscardStringContext
          (x: elemAt (builtins.match "\\.*(.*)" x) 0)
          (split "[^[:alnum:]+._?=-]+")
          (map (s: if builtins.isList s then "-" else s))
          concatStrings
          (x: substring (lib.max (stringLength x - 207) 0) (-1) x)
          (x: if stringLength x == 0 then "unknown" else x)
        ];
}
