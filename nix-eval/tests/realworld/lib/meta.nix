{ lib }:
rec {
  addMetaAttrs = newAttrs: drv: drv // { meta = (drv.meta or { }) // newAttrs; };
  dontDistribute = drv: addMetaAttrs { hydraPlatforms = [ ]; } drv;
  setName = name: drv: drv // { inherit name; };
  lowPrio = drv: addMetaAttrs { priority = 10; } drv;
  hiPrio = drv: addMetaAttrs { priority = -10; } drv;
  platformMatch = platform: elem: elem == platform.system or platform;
  availableOn = platform: pkg:
    (!pkg ? meta.platforms || lib.any (platformMatch platform) pkg.meta.platforms)
    && lib.all (elem: !platformMatch platform elem) (pkg.meta.badPlatforms or [ ]);

  licenses = lib.mapAttrs (n: v: v // { shortName = n; }) {
    mit = { spdxId = "MIT"; fullName = "MIT License"; free = true; };
    bsd3 = { spdxId = "BSD-3-Clause"; fullName = "BSD 3-clause License"; free = true; };
    gpl2Plus = { spdxId = "GPL-2.0-or-later"; fullName = "GNU General Public License v2.0 or later"; free = true; };
    gpl3Plus = { spdxId = "GPL-3.0-or-later"; fullName = "GNU General Public License v3.0 or later"; free = true; };
    asl20 = { spdxId = "Apache-2.0"; fullName = "Apache License 2.0"; free = true; };
    zlib = { spdxId = "Zlib"; fullName = "zlib License"; free = true; };
    unfree = { fullName = "Unfree"; free = false; };
  };

  maintainers = {
    alice = { name = "Alice Example"; email = "alice@example.org"; github = "alice"; };
    bob = { name = "Bob Example"; email = "bob@example.org"; github = "bob"; };
    carol = { name = "Carol Example"; email = "carol@example.org"; github = "carol"; };
  };

  platforms = {
    linux = [ "x86_64-linux" "aarch64-linux" "i686-linux" ];
    darwin = [ "x86_64-darwin" "aarch64-darwin" ];
    all = platforms.linux ++ platforms.darwin;
    unix = platforms.all;
  };
}
