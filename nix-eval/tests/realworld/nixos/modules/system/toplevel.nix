{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  failed = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
  showWarnings = res: lib.foldr (w: x: builtins.trace "warning: ${w}" x) res config.warnings;
in
{
  options.system = {
    build = mkOption {
      type = types.attrsOf types.unspecified;
      default = { };
      description = "Attribute set of derivations used to build the system.";
    };
    path = mkOption { type = types.package; };
    stateVersion = mkOption { type = types.str; default = "22.11"; };
    nixos.label = mkOption { type = types.str; default = "22.11.realworld"; };
    extraSystemBuilderCmds = mkOption { type = types.lines; default = ""; };
  };

  config.system.build.toplevel =
    if failed != [ ]
    then throw "\nFailed assertions:\n${lib.concatMapStrings (m: "- ${m}\n") failed}"
    else showWarnings (derivation {
      name = "nixos-system-${config.networking.hostName}-${config.system.nixos.label}";
      system = pkgs.stdenv.system;
      builder = "${pkgs.bash}/bin/bash";
      args = [ "-e" (builtins.toFile "system-builder.sh" ''
        mkdir -p $out
        ln -s $etc/etc $out/etc
        ln -s $path $out/sw
        ln -s $activate $out/activate
        ln -s $units $out/units
        echo -n "$systemVersion" > $out/nixos-version
        eval "$extraSystemBuilderCmds"
      '') ];
      etc = config.system.build.etc;
      path = config.system.path;
      activate = config.system.build.activate;
      units = config.system.build.units;
      systemVersion = config.system.nixos.label;
      inherit (config.system) extraSystemBuilderCmds stateVersion;
      kernelParams = [ "console=ttyS0" "quiet" ];
      preferLocalBuild = true;
      allowSubstitutes = false;
    });
}
