{ lib }:
let
  inherit (builtins) isAttrs isList isPath isString isBool attrNames head tail length
    concatLists concatMap filter map foldl' genericClosure mapAttrs zipAttrsWith;
  inherit (lib.options) isOption showOption showFiles mkOption;
in
rec {
  defaultOverridePriority = 100;
  defaultOrderPriority = 1000;

  # The properties: conditions, merges, priorities and list order.
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkOptionDefault = mkOverride 1500;
  mkDefault = mkOverride 1000;
  mkImageMediaOverride = mkOverride 60;
  mkForce = mkOverride 50;
  mkVMOverride = mkOverride 10;
  mkOrder = priority: content: { _type = "order"; inherit priority content; };
  mkBefore = mkOrder 500;
  mkAfter = mkOrder 1500;

  # All definitions of another option, with their priority, as one definition.
  mkAliasDefinitions = option:
    mkIf option.isDefined (mkMerge (map (d: d.value) option.definitionsWithLocations));

  mkRenamedOptionModule = from: to: { options, ... }: {
    options = lib.setAttrByPath from (mkOption {
      visible = false;
      description = "Alias of `${showOption to}'.";
    });
    config = lib.setAttrByPath to (mkAliasDefinitions (lib.getAttrFromPath from options));
  };

  typeOf' = x: if isAttrs x then x._type or "" else "";

  # A module as { key, file, imports, options, config }.
  loadModule = args: fallbackFile: anonKey: m:
    let
      fromFile = isPath m || isString m;
      file = if fromFile then toString m else fallbackFile;
      imported = if fromFile then import m else m;
      value = if lib.isFunction imported then imported args else imported;
      file' = value._file or file;
      structured = value ? options || value ? config;
      metaNames = [ "_file" "key" "imports" "options" "config" "meta" "disabledModules" ];
    in
    {
      key = if fromFile then toString m else value.key or anonKey;
      file = file';
      imports = value.imports or [ ];
      options = if structured then value.options or { } else { };
      config = if structured then value.config or { } else removeAttrs value metaNames;
    };

  collectModules = args: modules:
    genericClosure {
      startSet = lib.imap1 (i: m: loadModule args "<unknown-file>" "root:${toString i}" m) modules;
      operator = item:
        lib.imap1 (i: m: loadModule args item.file "${item.key}:${toString i}" m) item.imports;
    };

  # mkIf/mkMerge/mkOverride around a set of definitions move down to each attribute,
  # so the conditions are not forced to know which attributes a module defines.
  pushDownProperties = cfg:
    let t = typeOf' cfg; in
    if t == "merge" then concatMap pushDownProperties cfg.contents
    else if t == "if" then map (mapAttrs (n: v: mkIf cfg.condition v)) (pushDownProperties cfg.content)
    else if t == "override" then map (mapAttrs (n: v: mkOverride cfg.priority v)) (pushDownProperties cfg.content)
    else [ cfg ];

  dischargeProperties = def:
    let t = typeOf' def; in
    if t == "merge" then concatMap dischargeProperties def.contents
    else if t == "if" then
      if isBool def.condition then
        if def.condition then dischargeProperties def.content else [ ]
      else throw "mkIf called with a non-Boolean condition"
    else [ def ];

  filterOverrides' = defs:
    let
      getPrio = def: if typeOf' def.value == "override" then def.value.priority else defaultOverridePriority;
      highestPrio = foldl' (prio: def: lib.min (getPrio def) prio) 9999 defs;
      strip = def: if typeOf' def.value == "override" then def // { value = def.value.content; } else def;
    in
    {
      values = concatMap (def: if getPrio def == highestPrio then [ (strip def) ] else [ ]) defs;
      inherit highestPrio;
    };

  sortProperties = defs:
    let
      strip = def:
        if typeOf' def.value == "order"
        then def // { value = def.value.content; inherit (def.value) priority; }
        else def;
      defs' = map strip defs;
      compare = a: b: (a.priority or defaultOrderPriority) < (b.priority or defaultOrderPriority);
    in
    builtins.sort compare defs';

  # Merges the definitions of one option of type `type`.
  mergeDefinitions = loc: type: defs:
    let
      discharged = concatMap
        (m: map (value: { inherit (m) file; inherit value; }) (dischargeProperties m.value))
        defs;
      filtered = filterOverrides' discharged;
      defsFinal = sortProperties filtered.values;
      isDefined = defsFinal != [ ];
      badDef = lib.findFirst (def: !type.check def.value) null defsFinal;
      mergedValue =
        if !isDefined then throw "The option `${showOption loc}' is used but not defined."
        else if badDef != null
        then throw "A definition for option `${showOption loc}' is not of type `${type.description}'. Definition in `${badDef.file}'."
        else type.merge loc defsFinal;
    in
    {
      inherit isDefined mergedValue defsFinal;
      inherit (filtered) highestPrio;
      optionalValue = if isDefined then { value = mergedValue; } else { };
    };

  evalOptionValue = loc: decl: defs:
    let
      opt = decl.options;
      type = opt.type or lib.types.unspecified;
      defs' = (lib.optional (opt ? default) { file = decl.file; value = mkOptionDefault opt.default; }) ++ defs;
      merged = mergeDefinitions loc type defs';
      value = if opt ? apply then opt.apply merged.mergedValue else merged.mergedValue;
    in
    opt // {
      inherit value type;
      inherit (merged) isDefined highestPrio;
      loc = loc;
      declarations = [ decl.file ];
      files = map (d: d.file) defs;
      definitionsWithLocations = defs;
      definitions = map (d: d.value) defs;
    };

  # Declarations and definitions below one attribute path. Returns the options tree and the
  # definitions that no declaration matches.
  mergeModules = loc: decls: defs:
    let
      defs' = concatMap (d: map (c: { inherit (d) file; config = c; }) (pushDownProperties d.config)) defs;
      declsByName = zipAttrsWith (n: v: v)
        (map (d: mapAttrs (n: o: { inherit (d) file; options = o; }) d.options) decls);
      defsByName = zipAttrsWith (n: v: v)
        (map (d: mapAttrs (n: v: { inherit (d) file; value = v; }) d.config) defs');
      children = mapAttrs
        (name: ds:
          let
            subLoc = loc ++ [ name ];
            subDefs = defsByName.${name} or [ ];
            optionDecls = filter (d: isOption d.options) ds;
          in
          if optionDecls == [ ] then
            mergeModules subLoc ds (map (d: { inherit (d) file; config = d.value; }) subDefs)
          else if length ds > 1 then
            throw "The option `${showOption subLoc}' in `${(lib.elemAt ds 1).file}' is already declared in `${(head ds).file}'."
          else { option = evalOptionValue subLoc (head ds) subDefs; unmatched = [ ]; })
        declsByName;
      undeclared = filter (n: !(declsByName ? ${n})) (attrNames defsByName);
    in
    {
      option = mapAttrs (n: c: c.option) children;
      unmatched =
        map (n: { loc = loc ++ [ n ]; files = map (d: d.file) defsByName.${n}; }) undeclared
        ++ concatMap (c: c.unmatched) (builtins.attrValues children);
    };

  evalModules = { modules, prefix ? [ ], args ? { }, specialArgs ? { }, check ? true }:
    let
      moduleArgs = { inherit lib options config; } // specialArgs // args;
      closed = collectModules moduleArgs modules;
      merged = mergeModules prefix
        (map (m: { inherit (m) file options; }) closed)
        (map (m: { inherit (m) file config; }) closed);
      options = merged.option;
      config = lib.mapAttrsRecursiveCond (v: !isOption v) (_: opt: opt.value) options;
      checked =
        if check && merged.unmatched != [ ] then
          let u = head merged.unmatched;
          in throw "The option `${showOption u.loc}' does not exist. Definition values in ${showFiles u.files}."
        else true;
    in
    {
      inherit options;
      config = builtins.seq checked config;
      modules = map (m: m.key) closed;
      extendModules = extra:
        evalModules { modules = modules ++ (extra.modules or [ ]); inherit prefix args specialArgs check; };
    };
}
