{ config, lib, pkgs, ... }:
let
  cfg = config.networking;
  inherit (lib) mkOption types;
in
{
  options.networking = {
    hostName = mkOption {
      type = types.strMatching or types.str;
      default = "nixos";
      description = "The name of the machine.";
    };
    domain = mkOption {
      type = types.nullOr types.str;
      default = null;
    };
    fqdn = mkOption {
      type = types.str;
      readOnly = true;
      default = if cfg.domain != null then "${cfg.hostName}.${cfg.domain}" else cfg.hostName;
    };
    nameservers = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    extraHosts = mkOption {
      type = types.lines;
      default = "";
    };
    firewall = {
      enable = mkOption { type = types.bool; default = true; };
      allowedTCPPorts = mkOption { type = types.listOf types.port; default = [ ]; apply = lib.unique; };
      allowedUDPPorts = mkOption { type = types.listOf types.port; default = [ ]; };
      logRefusedConnections = lib.mkEnableOption "logging of refused connections";
    };
    interfaces = mkOption {
      default = { };
      type = types.attrsOf (types.submodule ({ name, config, ... }: {
        options = {
          name = mkOption { type = types.str; default = name; };
          useDHCP = mkOption { type = types.nullOr types.bool; default = null; };
          mtu = mkOption { type = types.nullOr types.int; default = null; };
          ipv4.addresses = mkOption {
            type = types.listOf (types.submodule {
              options = {
                address = mkOption { type = types.str; };
                prefixLength = mkOption { type = types.ints.between 0 32; };
              };
            });
            default = [ ];
          };
        };
      }));
    };
  };

  config = {
    environment.etc.hostname.text = cfg.hostName + "\n";
    environment.etc.hosts.text = lib.concatStringsSep "\n" ([
      "127.0.0.1 localhost"
      "::1 localhost"
      "127.0.0.2 ${cfg.fqdn} ${cfg.hostName}"
    ] ++ lib.optional (cfg.extraHosts != "") cfg.extraHosts) + "\n";
    environment.etc."resolv.conf".text = lib.concatMapStrings (ns: "nameserver ${ns}\n") cfg.nameservers;
    systemd.services.firewall = lib.mkIf cfg.firewall.enable {
      description = "Firewall";
      wantedBy = [ "multi-user.target" ];
      script = ''
        ${lib.concatMapStrings (p: "iptables -A nixos-fw -p tcp --dport ${toString p} -j ACCEPT\n") cfg.firewall.allowedTCPPorts}
        ${lib.concatMapStrings (p: "iptables -A nixos-fw -p udp --dport ${toString p} -j ACCEPT\n") cfg.firewall.allowedUDPPorts}
        ${lib.optionalString cfg.firewall.logRefusedConnections "iptables -A nixos-fw -j LOG"}
      '';
      serviceConfig.Type = "oneshot";
    };
    assertions = [{
      assertion = lib.all (i: i.mtu == null || i.mtu >= 576) (lib.attrValues cfg.interfaces);
      message = "networking.interfaces.*.mtu must be at least 576";
    }];
  };
}
