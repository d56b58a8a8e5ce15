final: prev:
let
  inherit (final) lib;
in
{
  jq = prev.jq.overrideAttrs (finalAttrs: old: {
    pname = "jq-patched";
    patches = (old.patches or [ ]) ++ [ (builtins.toFile "jq-fix.patch" "fix\n") ];
    passthru = (old.passthru or { }) // { patched = true; };
  });
  git = prev.git.override { withManual = false; };
  tmux = prev.tmux.overrideDerivation (drv: {
    configureFlags = drv.configureFlags ++ [ "--enable-utempter=no" ];
  });
  nginxWithStatus = prev.nginx.override (old: { modules = (old.modules or [ ]) ++ [
    { name = "status"; src = final.fetchurl { url = "https://modules.example.org/status.tar.gz"; sha256 = builtins.hashString "sha256" "status"; }; }
  ]; });
}
