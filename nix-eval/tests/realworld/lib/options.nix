{ lib }:
let
  inherit (builtins) head length concatStringsSep;
in
rec {
  # An option declaration; `default`, `apply`, `example` and `description` are optional.
  mkOption = attrs: attrs // { _type = "option"; };

  mkEnableOption = name: mkOption {
    default = false;
    example = true;
    description = "Whether to enable ${name}.";
    type = lib.types.bool;
  };

  mkPackageOption = pkgs: name: { default ? [ name ], example ? null }:
    let defaultPath = if builtins.isList default then default else [ default ];
    in mkOption {
      type = lib.types.package;
      default = lib.attrByPath defaultPath (throw "${concatStringsSep "." defaultPath} cannot be found in pkgs") pkgs;
      defaultText = literalExpression ("pkgs." + concatStringsSep "." defaultPath);
      description = "The ${name} package to use.";
    };

  isOption = x: (x._type or null) == "option";

  literalExpression = text: { _type = "literalExpression"; inherit text; };

  getValues = map (x: x.value);
  getFiles = map (x: x.file);

  showOption = loc: concatStringsSep "." loc;
  showFiles = files: concatStringsSep " and " (map (f: "`${f}'") files);

  # Every definition must be equal; the first one is the value.
  mergeEqualOption = loc: defs:
    if defs == [ ] then abort "This case should never happen."
    else (builtins.foldl'
      (first: def:
        if def.value != first.value
        then throw "The option `${showOption loc}' has conflicting definition values:\n- In `${first.file}': ${builtins.toJSON first.value}\n- In `${def.file}': ${builtins.toJSON def.value}"
        else first)
      (head defs)
      (builtins.tail defs)).value;

  mergeOneOption = loc: defs:
    if defs == [ ] then abort "This case should never happen."
    else if length defs != 1
    then throw "The unique option `${showOption loc}' is defined multiple times, in ${showFiles (getFiles defs)}."
    else (head defs).value;

  # Lists concatenate, sets merge, strings join with newlines, functions merge their results.
  mergeDefaultOption = loc: defs:
    let list = getValues defs; in
    if length list == 1 then head list
    else if lib.all builtins.isFunction list then x: mergeDefaultOption loc (map (f: { file = "<function>"; value = f x; }) list)
    else if lib.all builtins.isList list then builtins.concatLists list
    else if lib.all builtins.isAttrs list then builtins.foldl' lib.recursiveUpdate { } list
    else if lib.all builtins.isBool list then builtins.foldl' (a: b: a || b) false list
    else if lib.all builtins.isString list then concatStringsSep "\n" list
    else if lib.all builtins.isInt list && lib.all (x: x == head list) list then head list
    else throw "Cannot merge definitions of `${showOption loc}'. Definition values are not all of one mergeable type.";
}
