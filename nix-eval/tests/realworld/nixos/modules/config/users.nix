{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types mkIf;
  cfg = config.users;

  userOpts = { name, config, ... }: {
    options = {
      name = mkOption { type = types.str; default = name; };
      uid = mkOption { type = types.nullOr types.int; default = null; };
      group = mkOption { type = types.str; default = "users"; };
      extraGroups = mkOption { type = types.listOf types.str; default = [ ]; };
      description = mkOption { type = types.str; default = ""; };
      home = mkOption { type = types.str; default = if config.isNormalUser then "/home/${name}" else "/var/empty"; };
      shell = mkOption { type = types.either types.str types.package; default = "/run/current-system/sw/bin/nologin"; };
      isNormalUser = mkOption { type = types.bool; default = false; };
      isSystemUser = mkOption { type = types.bool; default = false; };
      openssh.authorizedKeys.keys = mkOption { type = types.listOf types.str; default = [ ]; };
    };
    config = mkIf config.isNormalUser {
      group = lib.mkDefault "users";
      extraGroups = [ "users" ];
      shell = lib.mkDefault "/run/current-system/sw/bin/bash";
    };
  };

  groupOpts = { name, ... }: {
    options = {
      name = mkOption { type = types.str; default = name; };
      gid = mkOption { type = types.nullOr types.int; default = null; };
      members = mkOption { type = types.listOf types.str; default = [ ]; };
    };
  };

  shellPath = s: if builtins.isString s then s else "${s}${s.passthru.shellPath or "/bin/sh"}";

  # uids for normal users without one, counted from 1000 in name order.
  normalUsers = lib.filter (u: u.isNormalUser) (lib.attrValues cfg.users);
  autoUid = lib.listToAttrs (lib.imap0 (i: u: lib.nameValuePair u.name (1000 + i))
    (lib.filter (u: u.uid == null) normalUsers));
  uidOf = u: if u.uid != null then u.uid else autoUid.${u.name} or 999;

  groupMembers = g: lib.unique (g.members ++ lib.concatMap
    (u: lib.optional (lib.elem g.name u.extraGroups) u.name)
    (lib.attrValues cfg.users));
in
{
  options.users = {
    mutableUsers = mkOption { type = types.bool; default = true; };
    users = mkOption { type = types.attrsOf (types.submodule userOpts); default = { }; };
    groups = mkOption { type = types.attrsOf (types.submodule groupOpts); default = { }; };
  };

  config = {
    users.users.root = {
      uid = 0;
      home = "/root";
      description = "System administrator";
      shell = lib.mkDefault "/run/current-system/sw/bin/bash";
    };
    users.users.nobody = { uid = 65534; description = "Unprivileged account"; group = "nogroup"; };
    users.groups = {
      root.gid = 0;
      wheel.gid = 1;
      users.gid = 100;
      nogroup.gid = 65534;
    };
    environment.etc.passwd.text = lib.concatMapStrings
      (u: "${u.name}:x:${toString (uidOf u)}:${toString (cfg.groups.${u.group}.gid or 100)}:${u.description}:${u.home}:${shellPath u.shell}\n")
      (lib.sort (a: b: uidOf a < uidOf b) (lib.attrValues cfg.users));
    environment.etc.group.text = lib.concatMapStrings
      (g: "${g.name}:x:${toString g.gid}:${lib.concatStringsSep "," (groupMembers g)}\n")
      (lib.attrValues cfg.groups);
    assertions = lib.mapAttrsToList (n: u: {
      assertion = !(u.isNormalUser && u.isSystemUser);
      message = "user ${n} cannot be both a normal and a system user";
    }) cfg.users;
  };
}
