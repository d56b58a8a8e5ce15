{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption mkIf types;
  cfg = config.services.nginx;

  vhostOpts = { name, config, ... }: {
    options = {
      serverName = mkOption { type = types.str; default = name; };
      serverAliases = mkOption { type = types.listOf types.str; default = [ ]; };
      root = mkOption { type = types.nullOr types.str; default = null; };
      forceSSL = mkOption { type = types.bool; default = false; };
      listenPort = mkOption { type = types.port; default = if config.forceSSL then 443 else 80; };
      locations = mkOption {
        type = types.attrsOf (types.submodule {
          options = {
            proxyPass = mkOption { type = types.nullOr types.str; default = null; };
            extraConfig = mkOption { type = types.lines; default = ""; };
          };
        });
        default = { };
      };
      extraConfig = mkOption { type = types.lines; default = ""; };
    };
  };

  renderLocation = path: l: ''
    location ${path} {
      ${lib.optionalString (l.proxyPass != null) "proxy_pass ${l.proxyPass};"}
      ${l.extraConfig}
    }
  '';

  renderVhost = name: v: ''
    server {
      listen ${toString v.listenPort}${lib.optionalString v.forceSSL " ssl http2"};
      server_name ${lib.concatStringsSep " " ([ v.serverName ] ++ v.serverAliases)};
      ${lib.optionalString (v.root != null) "root ${v.root};"}
      ${lib.concatStrings (lib.mapAttrsToList renderLocation v.locations)}
      ${v.extraConfig}
    }
  '';

  configFile = pkgs.writeText "nginx.conf" ''
    user ${cfg.user} ${cfg.group};
    worker_processes ${toString cfg.workerProcesses};
    events { worker_connections 1024; }
    http {
      include ${cfg.package}/conf/mime.types;
      sendfile on;
      ${lib.concatStrings (lib.mapAttrsToList renderVhost cfg.virtualHosts)}
      ${cfg.appendHttpConfig}
    }
  '';
in
{
  options.services.nginx = {
    enable = mkEnableOption "the nginx web server";
    package = lib.mkPackageOption pkgs "nginx" { };
    user = mkOption { type = types.str; default = "nginx"; };
    group = mkOption { type = types.str; default = "nginx"; };
    workerProcesses = mkOption { type = types.either types.int (types.enum [ "auto" ]); default = "auto"; };
    virtualHosts = mkOption { type = types.attrsOf (types.submodule vhostOpts); default = { }; };
    appendHttpConfig = mkOption { type = types.lines; default = ""; };
  };

  config = mkIf cfg.enable {
    networking.firewall.allowedTCPPorts = lib.unique (lib.mapAttrsToList (n: v: v.listenPort) cfg.virtualHosts);
    users.users.${cfg.user} = { isSystemUser = true; group = cfg.group; description = "nginx web server user"; };
    users.groups.${cfg.group} = { gid = 60; };
    environment.systemPackages = [ cfg.package ];
    systemd.services.nginx = {
      description = "Nginx Web Server";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      preStart = "${cfg.package}/bin/nginx -c ${configFile} -t";
      serviceConfig = {
        ExecStart = "${cfg.package}/bin/nginx -c ${configFile}";
        Restart = "always";
        RestartSec = 10;
        PrivateTmp = true;
      };
    };
  };
}
