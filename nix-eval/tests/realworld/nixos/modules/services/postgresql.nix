{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption mkIf types;
  cfg = config.services.postgresql;
  toStr = v: if builtins.isBool v then (if v then "on" else "off")
    else if builtins.isString v then "'${lib.replaceStrings [ "'" ] [ "''" ] v}'"
    else toString v;
  configFile = pkgs.writeText "postgresql.conf"
    (lib.concatStrings (lib.mapAttrsToList (n: v: "${n} = ${toStr v}\n") cfg.settings));
in
{
  options.services.postgresql = {
    enable = lib.mkEnableOption "PostgreSQL Server";
    package = mkOption { type = types.package; default = pkgs.postgresql; };
    port = mkOption { type = types.port; default = 5432; };
    dataDir = mkOption { type = types.str; default = "/var/lib/postgresql/${cfg.package.psqlSchema}"; };
    ensureDatabases = mkOption { type = types.listOf types.str; default = [ ]; };
    settings = mkOption {
      type = types.attrsOf (types.oneOf [ types.bool types.int types.str ]);
      default = { };
    };
  };

  config = mkIf cfg.enable {
    services.postgresql.settings = {
      port = lib.mkDefault cfg.port;
      listen_addresses = lib.mkDefault "localhost";
      log_destination = lib.mkDefault "stderr";
      hba_file = "${pkgs.writeText "pg_hba.conf" "local all all peer\n"}";
    };
    users.users.postgres = { uid = 71; group = "postgres"; home = cfg.dataDir; description = "PostgreSQL server user"; };
    users.groups.postgres.gid = 71;
    environment.systemPackages = [ cfg.package ];
    systemd.services.postgresql = {
      description = "PostgreSQL Server";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      environment.PGDATA = cfg.dataDir;
      path = [ cfg.package ];
      preStart = ''
        if ! test -e ${cfg.dataDir}/PG_VERSION; then initdb -U postgres; fi
        ln -sfn "${configFile}" "${cfg.dataDir}/postgresql.conf"
      '';
      script = lib.concatMapStrings (db: ''
        psql -tAc "SELECT 1 FROM pg_database WHERE datname = '${db}'" | grep -q 1 || createdb ${db}
      '') cfg.ensureDatabases;
      serviceConfig = {
        User = "postgres";
        Group = "postgres";
        TimeoutSec = 120;
      };
    };
  };
}
