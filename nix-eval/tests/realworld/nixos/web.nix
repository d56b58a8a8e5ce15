{ config, lib, pkgs, ... }:
{
  options.boot.kernelParams = lib.mkOption {
    type = lib.types.listOf lib.types.str;
    default = [ ];
  };

  config = lib.mkMerge [
    {
      services.nginx = {
        enable = true;
        package = pkgs.nginxWithStatus;
        workerProcesses = 4;
        virtualHosts."realworld.example.org" = {
          forceSSL = true;
          serverAliases = [ "www.realworld.example.org" ];
          root = "/var/www/realworld";
          locations."/api/".proxyPass = "http://127.0.0.1:8080";
          locations."/status".extraConfig = "stub_status on;";
        };
        virtualHosts.internal = {
          listenPort = 8081;
          locations."/".proxyPass = "http://127.0.0.1:8080";
        };
      };
    }
    (lib.mkIf config.services.nginx.enable {
      boot.kernelParams = lib.mkAfter [ "net.core.somaxconn=4096" ];
      services.nginx.appendHttpConfig = ''
        access_log off;
      '';
    })
    (lib.mkIf (!config.services.nginx.enable) {
      boot.kernelParams = [ "never" ];
    })
  ];
}
