# The overlays applied to the package set, in order.
let
  lib = import ../lib;
in
[
  (import ./security.nix)
  (lib.composeExtensions (import ./python.nix) (import ./tools.nix))
  (lib.composeManyExtensions [
    (import ./patches.nix)
    (final: prev: {
      # A later overlay sees what the earlier ones did.
      hello = prev.hello.overrideAttrs (old: {
        postInstall = (old.postInstall or "") + ''
          ln -s hello $out/bin/hi
        '';
      });
    })
  ])
]
