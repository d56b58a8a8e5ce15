{ lib }:
let
  inherit (builtins) head tail length isAttrs attrNames listToAttrs;
in
rec {
  attrByPath = attrPath: default: e:
    let attr = head attrPath;
    in
    if attrPath == [ ] then e
    else if e ? ${attr} then attrByPath (tail attrPath) default e.${attr}
    else default;

  hasAttrByPath = attrPath: e:
    let attr = head attrPath;
    in
    if attrPath == [ ] then true
    else if e ? ${attr} then hasAttrByPath (tail attrPath) e.${attr}
    else false;

  setAttrByPath = attrPath: value:
    let
      len = length attrPath;
      atDepth = n:
        if n == len then value
        else { ${builtins.elemAt attrPath n} = atDepth (n + 1); };
    in
    atDepth 0;

  getAttrFromPath = attrPath: set:
    let errorMsg = "cannot find attribute `" + lib.concatStringsSep "." attrPath + "'";
    in attrByPath attrPath (throw errorMsg) set;

  attrVals = nameList: set: map (x: set.${x}) nameList;

  filterAttrs = pred: set:
    listToAttrs (lib.concatMap
      (name: let v = set.${name}; in if pred name v then [ (nameValuePair name v) ] else [ ])
      (attrNames set));

  filterAttrsRecursive = pred: set:
    listToAttrs (lib.concatMap
      (name:
        let v = set.${name}; in
        if pred name v then [
          (nameValuePair name (if isAttrs v then filterAttrsRecursive pred v else v))
        ] else [ ])
      (attrNames set));

  foldlAttrs = f: init: set:
    builtins.foldl' (acc: name: f acc name set.${name}) init (attrNames set);

  nameValuePair = name: value: { inherit name value; };

  mapAttrs' = f: set: listToAttrs (map (attr: f attr set.${attr}) (attrNames set));

  mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (attrNames attrs);

  mapAttrsRecursive = mapAttrsRecursiveCond (as: true);

  mapAttrsRecursiveCond = cond: f: set:
    let
      recurse = path:
        builtins.mapAttrs (name: value:
          if isAttrs value && cond value
          then recurse (path ++ [ name ]) value
          else f (path ++ [ name ]) value);
    in
    recurse [ ] set;

  genAttrs = names: f: listToAttrs (map (n: nameValuePair n (f n)) names);

  isDerivation = value: value.type or null == "derivation";

  optionalAttrs = cond: as: if cond then as else { };

  zipAttrsWithNames = names: f: sets:
    listToAttrs (map (name: {
      inherit name;
      value = f name (builtins.catAttrs name sets);
    }) names);

  zipAttrs = builtins.zipAttrsWith (name: values: values);

  recursiveUpdateUntil = pred: lhs: rhs:
    let
      f = attrPath:
        builtins.zipAttrsWith (n: values:
          let here = attrPath ++ [ n ]; in
          if length values == 1
            || pred here (builtins.elemAt values 1) (head values)
          then head values
          else f here values);
    in
    f [ ] [ rhs lhs ];

  recursiveUpdate = lhs: rhs:
    recursiveUpdateUntil (path: lhs: rhs: !(isAttrs lhs && isAttrs rhs)) lhs rhs;

  collect = pred: attrs:
    if pred attrs then [ attrs ]
    else if isAttrs attrs then lib.concatMap (collect pred) (builtins.attrValues attrs)
    else [ ];

  cartesianProductOfSets = attrsOfLists:
    builtins.foldl'
      (listOfAttrs: attrName:
        lib.concatMap
          (attrs: map (listValue: attrs // { ${attrName} = listValue; }) attrsOfLists.${attrName})
          listOfAttrs)
      [ { } ]
      (attrNames attrsOfLists);

  getOutput = output: pkg:
    if !pkg ? outputSpecified || !pkg.outputSpecified
    then pkg.${output} or pkg.out or pkg
    else pkg;

  getBin = getOutput "bin";
  getLib = getOutput "lib";
  getDev = getOutput "dev";
  getMan = getOutput "man";
}
