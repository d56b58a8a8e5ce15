# A NixOS-style system: the module list, the host configuration, and the resulting
# "system" derivation.
{ pkgs, configuration ? ./configuration.nix }:
let
  inherit (pkgs) lib;
  eval = lib.evalModules {
    modules = import ./modules/module-list.nix ++ [ configuration ];
    specialArgs = { inherit pkgs; modulesPath = toString ./modules; };
  };
in
{
  inherit (eval) config options;
  system = eval.config.system.build.toplevel;
  etc = eval.config.system.build.etc;
  recurseForDerivations = true;
}
