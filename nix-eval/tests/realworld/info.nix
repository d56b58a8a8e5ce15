# The parts of the corpus that are plain data, for `nix-instantiate --eval --strict --json`:
# the library's results, the generated package specifications and the module system's
# configuration without the options that hold packages.
let
  lib = import ./lib;
  pkgs = import ./pkgs { overlays = import ./overlays; };
  nixos = import ./nixos { inherit pkgs; };
  inherit (nixos) config;

  specs = pkgs.generatedSpecs;
  byName = lib.listToAttrs (map (s: lib.nameValuePair s.name s) specs);
  closureOf = name: map (x: x.key) (builtins.genericClosure {
    startSet = [ { key = name; } ];
    operator = item: map (d: { key = d; }) byName.${item.key}.deps;
  });
in
{
  lib = {
    recursiveUpdate = lib.recursiveUpdate { a = { b = 1; c = [ 1 ]; }; d = 2; } { a = { c = [ 2 ]; e = 3; }; };
    toposort = lib.toposort (a: b: lib.hasPrefix a b) [ "abc" "a" "abcd" "ab" ];
    naturalSort = lib.naturalSort [ "pkg10" "pkg9" "pkg100" "pkg1" "a2b" "a10b" ];
    sanitized = map lib.sanitizeDerivationName [ "hello" ".hidden" "foo bar/baz" "ünïcode" ];
    versions = map (v: { inherit v; major = lib.versions.major v; mm = lib.versions.majorMinor v; pad = lib.versions.pad 4 v; })
      [ "1.2.3" "10.0" "2.38.1-rc2" ];
    cartesian = lib.cartesianProductOfSets { a = [ 1 2 ]; b = [ "x" "y" ]; };
    escape = lib.escapeShellArgs [ "plain" "it's" "a b" ];
    strings = {
      split = lib.splitString "." "a.b..c";
      upper = lib.toUpper "Hello World";
      infix = lib.hasInfix "lo W" "Hello World";
      width = lib.fixedWidthNumber 5 42;
      digits = lib.toBaseDigits 16 48879;
      names = map (n: { name = lib.getName n; version = lib.getVersion n; }) [ "hello-2.12.1" "python3.10-requests-2.28.1" "nix" ];
    };
    extensible = removeAttrs ((lib.makeExtensible (self: { a = 1; b = self.a + 1; })).extend (final: prev: { a = 10; c = final.b * 2; })) [ "__unfix__" "extend" ];
    composed = lib.fix (lib.extends (lib.composeManyExtensions [
      (final: prev: { x = prev.x + 1; })
      (final: prev: { y = final.x * 10; })
      (final: prev: { x = prev.x * 2; })
    ]) (final: { x = 1; y = 0; }));
  };

  packages = {
    count = lib.length specs;
    apps = map (s: s.name) (lib.filter (s: s.kind == "app") specs);
    firstTen = lib.take 10 (map (s: "${s.name}-${s.version}") specs);
    deepestClosure = lib.foldl' (best: s:
      let n = lib.length (closureOf s.name); in
      if n > best.size then { name = s.name; size = n; } else best)
      { name = ""; size = 0; } specs;
    byKind = builtins.mapAttrs (k: v: lib.length v) (builtins.groupBy (s: s.kind) specs);
    byBaseDep = lib.groupBy' (n: s: n + 1) 0 (s: s.baseDep) specs;
    rcVersions = lib.count (s: lib.hasInfix "-rc" s.version) specs;
  };

  system = {
    inherit (config.networking) hostName domain fqdn nameservers;
    firewall = config.networking.firewall;
    interfaces = config.networking.interfaces;
    users = lib.mapAttrs (n: u: { inherit (u) name uid group extraGroups home isNormalUser description; }) config.users.users;
    groups = config.users.groups;
    nginx = { inherit (config.services.nginx) enable user workerProcesses virtualHosts appendHttpConfig; };
    openssh = config.services.openssh;
    postgresqlSettings = removeAttrs config.services.postgresql.settings [ "hba_file" ];
    redis = config.services.redis.servers;
    kernelParams = config.boot.kernelParams;
    variables = config.environment.variables;
    shellAliases = config.environment.shellAliases;
    etcFiles = lib.attrNames config.environment.etc;
    etcText = lib.mapAttrs (n: e: e.text) (lib.filterAttrs (n: e: e.text != null && !builtins.hasContext e.text) config.environment.etc);
    services = lib.mapAttrs (n: s: { inherit (s) description wantedBy after requires; }) config.systemd.services;
    activationOrder = lib.attrNames config.system.activationScripts;
    assertions = map (a: a.message) config.assertions;
    inherit (config.system) stateVersion;
  };
}
