{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption mkIf types;
  cfg = config.services.redis;
  enabledServers = lib.filterAttrs (n: s: s.enable) cfg.servers;
in
{
  options.services.redis.servers = mkOption {
    default = { };
    type = types.attrsOf (types.submodule ({ name, config, ... }: {
      options = {
        enable = lib.mkEnableOption "Redis server ${name}";
        port = mkOption { type = types.port; default = if name == "" then 6379 else 0; };
        bind = mkOption { type = types.nullOr types.str; default = "127.0.0.1"; };
        databases = mkOption { type = types.int; default = 16; };
        save = mkOption { type = types.listOf (types.listOf types.int); default = [ [ 900 1 ] [ 300 10 ] ]; };
      };
    }));
  };

  config = mkIf (enabledServers != { }) {
    systemd.services = lib.mapAttrs' (name: s: lib.nameValuePair "redis-${name}" {
      description = "Redis Server - ${name}";
      wantedBy = [ "multi-user.target" ];
      serviceConfig.ExecStart = "${pkgs.redis}/bin/redis-server ${pkgs.writeText "redis-${name}.conf" ''
        port ${toString s.port}
        ${lib.optionalString (s.bind != null) "bind ${s.bind}"}
        databases ${toString s.databases}
        ${lib.concatMapStrings (d: "save ${toString (builtins.elemAt d 0)} ${toString (builtins.elemAt d 1)}\n") s.save}
      ''}";
    }) enabledServers;
  };
}
