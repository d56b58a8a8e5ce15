{ lib }:
let
  inherit (builtins) isString isInt isBool isList isAttrs isPath length elem filter head;
  inherit (lib.options) mergeEqualOption mergeOneOption mergeDefaultOption getValues
    showOption showFiles getFiles;

  mkOptionType =
    { name
    , description ? name
    , check ? (x: true)
    , merge ? mergeDefaultOption
    , nestedTypes ? { }
    , emptyValue ? { }
    }: {
      _type = "option-type";
      inherit name description check merge nestedTypes emptyValue;
    };

  isStorePath = x:
    let s = toString x;
    in isString x && lib.hasPrefix builtins.storeDir s
       && builtins.match "[0-9a-z]{32}-.*" (lib.removePrefix "${builtins.storeDir}/" s) != null;
in
rec {
  inherit mkOptionType;

  isType = type: x: (x._type or "") == type;
  isOptionType = isType "option-type";

  unspecified = mkOptionType { name = "unspecified"; };

  anything = mkOptionType {
    name = "anything";
    description = "anything";
    merge = loc: defs:
      let values = getValues defs; in
      if lib.all isAttrs values then lib.foldl' lib.recursiveUpdate { } values
      else if lib.all isList values then builtins.concatLists values
      else mergeEqualOption loc defs;
  };

  bool = mkOptionType { name = "bool"; description = "boolean"; check = isBool; merge = mergeEqualOption; };

  int = mkOptionType { name = "int"; description = "signed integer"; check = isInt; merge = mergeEqualOption; };

  ints = {
    between = lowest: highest: addCheck int (x: x >= lowest && x <= highest) // {
      name = "intBetween";
      description = "integer between ${toString lowest} and ${toString highest} (both inclusive)";
    };
    unsigned = addCheck int (x: x >= 0) // { name = "unsignedInt"; description = "unsigned integer"; };
    positive = addCheck int (x: x > 0) // { name = "positiveInt"; description = "positive integer"; };
  };

  port = ints.between 0 65535 // { name = "port"; description = "16 bit unsigned integer"; };

  str = mkOptionType { name = "str"; description = "string"; check = isString; merge = mergeEqualOption; };

  nonEmptyStr = addCheck str (x: x != "" && builtins.match "[ \t\n]*" x == null) // {
    name = "nonEmptyStr";
    description = "non-empty string";
  };

  separatedString = sep: mkOptionType {
    name = "separatedString";
    description = if sep == "" then "concatenated string" else "strings concatenated with ${builtins.toJSON sep}";
    check = isString;
    merge = loc: defs: builtins.concatStringsSep sep (getValues defs);
  };

  lines = separatedString "\n";
  commas = separatedString ",";
  envVar = separatedString ":";

  path = mkOptionType {
    name = "path";
    check = x: isPath x || (lib.isDerivation x) || lib.hasPrefix "/" (toString x);
    merge = mergeEqualOption;
  };

  package = mkOptionType {
    name = "package";
    description = "package";
    check = x: lib.isDerivation x || isStorePath x;
    merge = mergeOneOption;
  };

  enum = values: mkOptionType {
    name = "enum";
    description = "one of ${lib.concatMapStringsSep ", " builtins.toJSON values}";
    check = x: elem x values;
    merge = mergeEqualOption;
  };

  nullOr = elemType: mkOptionType {
    name = "nullOr";
    description = "null or ${elemType.description}";
    check = x: x == null || elemType.check x;
    merge = loc: defs:
      let nrNulls = lib.count (def: def.value == null) defs; in
      if nrNulls == length defs then null
      else if nrNulls != 0
      then throw "The option `${showOption loc}' is defined both null and not null, in ${showFiles (getFiles defs)}."
      else elemType.merge loc defs;
    nestedTypes.elemType = elemType;
  };

  listOf = elemType: mkOptionType {
    name = "listOf";
    description = "list of ${elemType.description}";
    check = isList;
    merge = loc: defs:
      builtins.concatLists (lib.imap1
        (n: def: lib.imap1
          (m: v:
            if elemType.check v then v
            else throw "A definition for option `${showOption loc}' entry ${toString m} in ${def.file} is not of type `${elemType.description}'.")
          def.value)
        defs);
    emptyValue = [ ];
    nestedTypes.elemType = elemType;
  };

  attrsOf = elemType: mkOptionType {
    name = "attrsOf";
    description = "attribute set of ${elemType.description}";
    check = isAttrs;
    merge = loc: defs:
      builtins.mapAttrs (n: v: v.value)
        (lib.filterAttrs (n: v: v ? value)
          (builtins.zipAttrsWith
            (name: defs: (lib.modules.mergeDefinitions (loc ++ [ name ]) elemType defs).optionalValue)
            (map (def: builtins.mapAttrs (n: v: { inherit (def) file; value = v; }) def.value) defs)));
    nestedTypes.elemType = elemType;
  };

  lazyAttrsOf = attrsOf;

  uniq = elemType: elemType // { merge = mergeOneOption; };

  either = t1: t2: mkOptionType {
    name = "either";
    description = "${t1.description} or ${t2.description}";
    check = x: t1.check x || t2.check x;
    merge = loc: defs:
      let defList = getValues defs; in
      if lib.all t1.check defList then t1.merge loc defs
      else if lib.all t2.check defList then t2.merge loc defs
      else mergeOneOption loc defs;
  };

  oneOf = ts:
    let tail' = builtins.tail ts;
    in builtins.foldl' either (head ts) tail';

  coercedTo = coercedType: coerceFunc: finalType: mkOptionType {
    name = "coercedTo";
    description = "${finalType.description} or ${coercedType.description} convertible to it";
    check = x: (coercedType.check x && finalType.check (coerceFunc x)) || finalType.check x;
    merge = loc: defs:
      let coerceVal = val: if coercedType.check val then coerceFunc val else val;
      in finalType.merge loc (map (def: def // { value = coerceVal def.value; }) defs);
  };

  functionTo = elemType: mkOptionType {
    name = "functionTo";
    description = "function that evaluates to a(n) ${elemType.description}";
    check = lib.isFunction;
    merge = loc: defs: fnArgs:
      (lib.modules.mergeDefinitions (loc ++ [ "[function body]" ]) elemType
        (map (fn: { inherit (fn) file; value = fn.value fnArgs; }) defs)).mergedValue;
  };

  addCheck = elemType: check: elemType // { check = x: elemType.check x && check x; };

  # Options of a nested module system; each definition is one more module.
  submoduleWith = { modules, specialArgs ? { } }: mkOptionType {
    name = "submodule";
    description = "submodule";
    check = x: isAttrs x || lib.isFunction x || isPath x;
    merge = loc: defs:
      (lib.evalModules {
        modules = modules ++ map (def: { _file = def.file; imports = [ def.value ]; }) defs;
        inherit specialArgs;
        args.name = lib.last loc;
        prefix = loc;
      }).config;
  };

  submodule = modules: submoduleWith { modules = lib.toList modules; };
}
