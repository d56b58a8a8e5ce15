# What the package set looks like from outside, as data: names, versions, outputs, store
# paths and dependency counts of every top-level derivation of default.nix.
let
  lib = import ./lib;
  top = import ./default.nix;
  describe = drv: {
    inherit (drv) name drvPath;
    out = drv.outPath;
    outputs = drv.outputs or [ "out" ];
    outPaths = map (o: drv.${o}.outPath) (drv.outputs or [ "out" ]);
    pname = drv.pname or null;
    version = drv.version or null;
    buildInputs = lib.length (drv.buildInputs or [ ]);
    license = drv.meta.license.spdxId or null;
  };
  flatten = prefix: set:
    lib.concatLists (lib.mapAttrsToList (n: v:
      if lib.isDerivation v then [ ({ attr = prefix + n; } // describe v) ]
      else if v.recurseForDerivations or false then flatten "${prefix}${n}." v
      else [ ]) set);
in
{
  derivations = flatten "" top;
  systemEtcTexts = lib.mapAttrs (n: e: e.text) (lib.filterAttrs (n: e: e.text != null) top.nixos.config.environment.etc);
  systemPackages = map (p: p.name) top.nixos.config.environment.systemPackages;
  systemDrv = top.nixos.system.drvPath;
}
