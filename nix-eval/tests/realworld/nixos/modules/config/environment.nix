{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.environment;
in
{
  options.environment = {
    systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = "Packages installed in the system profile.";
    };
    variables = mkOption {
      type = types.attrsOf (types.either types.str (types.listOf types.str));
      default = { };
      apply = lib.mapAttrs (n: v: if builtins.isList v then lib.concatStringsSep ":" v else v);
    };
    shellAliases = mkOption { type = types.attrsOf types.str; default = { }; };
    pathsToLink = mkOption { type = types.listOf types.str; default = [ ]; };
  };

  config = {
    environment.pathsToLink = [ "/bin" "/share/man" "/lib" ];
    environment.variables = {
      EDITOR = lib.mkDefault "nano";
      PAGER = lib.mkDefault "less -R";
      XDG_DATA_DIRS = [ "/run/current-system/sw/share" ];
    };
    environment.systemPackages = with pkgs; [ bash coreutils gnused gnugrep gawk gnutar ];
    environment.etc.profile.text = ''
      # /etc/profile: generated
      ${lib.concatStrings (lib.mapAttrsToList (n: v: "export ${n}=${lib.escapeShellArg v}\n") cfg.variables)}
      ${lib.concatStrings (lib.mapAttrsToList (n: v: "alias ${n}=${lib.escapeShellArg v}\n") cfg.shellAliases)}
    '';
    system.path = pkgs.buildEnv {
      name = "system-path";
      paths = cfg.systemPackages;
      inherit (cfg) pathsToLink;
      extraOutputsToInstall = [ "man" ];
    };
  };
}
