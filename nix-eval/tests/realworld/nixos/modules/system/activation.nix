{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  scriptType = types.either types.lines (types.submodule {
    options = {
      deps = mkOption { type = types.listOf types.str; default = [ ]; };
      text = mkOption { type = types.lines; };
    };
  });
  normalise = n: s: if builtins.isString s then { deps = [ ]; text = s; } else s;
  scripts = lib.mapAttrs normalise config.system.activationScripts;
  names = lib.attrNames scripts;
  # Order the snippets so that each comes after its dependencies.
  sorted = lib.toposort (a: b: lib.elem a scripts.${b}.deps) names;
in
{
  options.system.activationScripts = mkOption {
    type = types.attrsOf scriptType;
    default = { };
  };
  config = {
    system.activationScripts = {
      specialfs = ''
        mkdir -p /dev /proc /sys /run
      '';
      users = { deps = [ "specialfs" ]; text = "echo setting up users"; };
      etc = { deps = [ "users" "specialfs" ]; text = "ln -sfn ${config.system.build.etc}/etc /etc/static"; };
    };
    system.build.activate = pkgs.writeScript "activate" ''
      #!${pkgs.bash}/bin/bash
      ${lib.concatMapStrings (n: "# ${n}\n${scripts.${n}.text}\n") sorted.result}
    '';
  };
}
