{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption mkIf types;
  cfg = config.services.openssh;
  userKeys = lib.concatLists (lib.mapAttrsToList (n: u: map (k: "${n} ${k}") u.openssh.authorizedKeys.keys) config.users.users);
in
{
  options.services.openssh = {
    enable = lib.mkEnableOption "the OpenSSH secure shell daemon";
    ports = mkOption { type = types.listOf types.port; default = [ 22 ]; };
    permitRootLogin = mkOption {
      type = types.enum [ "yes" "without-password" "prohibit-password" "forced-commands-only" "no" ];
      default = "prohibit-password";
    };
    passwordAuthentication = mkOption { type = types.bool; default = true; };
    extraConfig = mkOption { type = types.lines; default = ""; };
  };

  config = mkIf cfg.enable {
    networking.firewall.allowedTCPPorts = cfg.ports;
    users.users.sshd = { isSystemUser = true; group = "sshd"; description = "SSH privilege separation user"; };
    users.groups.sshd = { };
    environment.etc."ssh/sshd_config".text = ''
      ${lib.concatMapStrings (p: "Port ${toString p}\n") cfg.ports}
      PermitRootLogin ${cfg.permitRootLogin}
      PasswordAuthentication ${if cfg.passwordAuthentication then "yes" else "no"}
      ${cfg.extraConfig}
    '';
    environment.etc."ssh/authorized_keys_summary".text = lib.concatStringsSep "\n" userKeys;
    systemd.services.sshd = {
      description = "SSH Daemon";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      path = [ pkgs.openssh pkgs.gawk ];
      preStart = ''
        mkdir -m 0755 -p /etc/ssh
        ssh-keygen -t ed25519 -f /etc/ssh/ssh_host_ed25519_key -N ""
      '';
      serviceConfig = {
        ExecStart = "${pkgs.openssh}/bin/sshd -D -f /etc/ssh/sshd_config";
        KillMode = "process";
        Restart = "always";
        Type = "simple";
      };
    };
  };
}
