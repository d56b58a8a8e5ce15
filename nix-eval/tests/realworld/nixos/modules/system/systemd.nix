{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.systemd;

  unitValue = types.oneOf [ types.str types.int types.bool (types.listOf types.str) ];

  serviceOpts = { name, config, ... }: {
    options = {
      enable = mkOption { type = types.bool; default = true; };
      description = mkOption { type = types.str; default = ""; };
      wantedBy = mkOption { type = types.listOf types.str; default = [ ]; };
      after = mkOption { type = types.listOf types.str; default = [ ]; };
      requires = mkOption { type = types.listOf types.str; default = [ ]; };
      environment = mkOption { type = types.attrsOf types.str; default = { }; };
      path = mkOption { type = types.listOf types.package; default = [ ]; };
      script = mkOption { type = types.lines; default = ""; };
      preStart = mkOption { type = types.lines; default = ""; };
      serviceConfig = mkOption { type = types.attrsOf unitValue; default = { }; };
    };
    config.serviceConfig = lib.mkMerge [
      (lib.mkIf (config.script != "") {
        ExecStart = "${pkgs.writeShellScript "${name}-start" config.script}";
      })
      (lib.mkIf (config.preStart != "") {
        ExecStartPre = "${pkgs.writeShellScript "${name}-pre-start" config.preStart}";
      })
    ];
  };

  renderValue = v:
    if builtins.isBool v then lib.boolToString v
    else if builtins.isList v then lib.concatStringsSep " " v
    else toString v;

  unitText = name: s: ''
    [Unit]
    Description=${s.description}
    ${lib.optionalString (s.after != [ ]) "After=${lib.concatStringsSep " " s.after}"}
    ${lib.optionalString (s.requires != [ ]) "Requires=${lib.concatStringsSep " " s.requires}"}

    [Service]
    ${lib.concatStrings (lib.mapAttrsToList (n: v: "Environment=\"${n}=${v}\"\n") (s.environment // {
      PATH = lib.makeBinPath s.path;
    }))}
    ${lib.concatStrings (lib.mapAttrsToList (n: v: "${n}=${renderValue v}\n") s.serviceConfig)}
    [Install]
    WantedBy=${lib.concatStringsSep " " s.wantedBy}
  '';

  enabled = lib.filterAttrs (n: s: s.enable) cfg.services;
in
{
  options.systemd = {
    services = mkOption { type = types.attrsOf (types.submodule serviceOpts); default = { }; };
    defaultTarget = mkOption { type = types.str; default = "multi-user.target"; };
  };

  config = {
    environment.etc = lib.mapAttrs' (name: s:
      lib.nameValuePair "systemd/system/${name}.service" { text = unitText name s; })
      enabled;
    system.build.units = pkgs.symlinkJoin {
      name = "system-units";
      paths = lib.mapAttrsToList (name: s: pkgs.writeTextFile {
        name = "unit-${name}.service";
        text = unitText name s;
        destination = "/etc/systemd/system/${name}.service";
      }) enabled;
    };
  };
}
