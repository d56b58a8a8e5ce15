# The host: a small web and database server.
{ config, lib, pkgs, ... }:
{
  imports = [ ./hardware.nix ./web.nix ];

  networking.hostname = "realworld";
  networking.domain = "example.org";
  networking.nameservers = [ "9.9.9.9" "149.112.112.112" ];
  networking.firewall.allowedTCPPorts = [ 22 8080 ];
  networking.firewall.logRefusedConnections = lib.mkDefault true;
  networking.extraHosts = ''
    10.0.0.2 db.internal
    10.0.0.3 cache.internal
  '';

  time.timeZone = "UTC";

  users.mutableUsers = false;
  users.users.alice = {
    isNormalUser = true;
    description = "Alice Example";
    extraGroups = [ "wheel" ];
    openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAliceKey alice@laptop" ];
  };
  users.users.bob = {
    isNormalUser = true;
    uid = 1500;
    shell = pkgs.bashInteractive;
    description = "Bob Example";
  };
  users.groups.deploy.members = [ "alice" ];

  environment.systemPackages = with pkgs; [ git htop tmux jq curl hello greet python3 ];
  environment.shellAliases = {
    ll = "ls -l";
    gs = "git status";
  };
  environment.variables.EDITOR = lib.mkForce "vim";
  environment.etc."motd".source = pkgs.motd;
  environment.etc."issue".text = ''
    Welcome to ${config.networking.fqdn} (${config.system.nixos.label})
  '';

  services.openssh = {
    enable = true;
    permitRootLogin = "no";
    passwordAuthentication = false;
  };

  services.postgresql = {
    enable = true;
    package = pkgs.postgresql_14;
    ensureDatabases = [ "app" "metrics" ];
    settings = {
      max_connections = 200;
      shared_buffers = "256MB";
      log_statement = "ddl";
      fsync = true;
    };
  };

  services.redis.servers = {
    "" = { enable = true; };
    sessions = { enable = true; port = 6380; databases = 4; };
    disabled = { enable = false; port = 6381; };
  };

  systemd.services.app = {
    description = "The application";
    wantedBy = [ "multi-user.target" ];
    after = [ "postgresql.service" "redis-sessions.service" ];
    requires = [ "postgresql.service" ];
    environment = {
      DATABASE_URL = "postgresql:///app";
      REDIS_URL = "redis://127.0.0.1:6380";
    };
    path = [ pkgs.python3 pkgs.curl ];
    script = ''
      exec ${pkgs.pythonEnv}/bin/python -m app --port 8080
    '';
    serviceConfig = {
      User = "alice";
      Restart = "on-failure";
      RestartSec = 5;
      NoNewPrivileges = true;
    };
  };

  system.activationScripts.app-state = {
    deps = [ "users" ];
    text = "mkdir -p /var/lib/app && chown alice /var/lib/app";
  };
  system.stateVersion = "22.11";
}
