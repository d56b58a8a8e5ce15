{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;

  etcEntry = { name, config, ... }: {
    options = {
      enable = mkOption { type = types.bool; default = true; };
      target = mkOption { type = types.str; default = name; };
      text = mkOption { type = types.nullOr types.lines; default = null; };
      source = mkOption { type = types.path; };
      mode = mkOption { type = types.str; default = "symlink"; };
      user = mkOption { type = types.str; default = "+0"; };
      group = mkOption { type = types.str; default = "+0"; };
    };
    # Text without store references goes to the store directly; text that refers to
    # derivation outputs needs a derivation.
    config.source = lib.mkIf (config.text != null)
      (let fileName = "etc-${lib.replaceStrings [ "/" ] [ "-" ] name}"; in
       if builtins.hasContext config.text
       then pkgs.writeText fileName config.text
       else builtins.toFile fileName config.text);
  };

  entries = lib.filter (e: e.enable) (lib.attrValues config.environment.etc);
in
{
  options.environment.etc = mkOption {
    type = types.attrsOf (types.submodule etcEntry);
    default = { };
    description = "Files in /etc.";
  };

  config.system.build.etc = pkgs.runCommand "etc"
    {
      entries = map (e: "${e.source}:${e.target}:${e.mode}:${e.user}:${e.group}") entries;
      preferLocalBuild = true;
    } ''
    for entry in $entries; do
      IFS=: read -r source target mode user group <<< "$entry"
      mkdir -p "$out/etc/$(dirname "$target")"
      ln -s "$source" "$out/etc/$target"
    done
  '';
}
