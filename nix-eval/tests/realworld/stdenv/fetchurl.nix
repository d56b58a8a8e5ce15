# A fixed-output fetcher: the derivation names its result by hash, so it can be
# instantiated without network access.
{ lib, system, shell, curl }:
{ url ? null
, urls ? [ ]
, name ? baseNameOf (toString (if url != null then url else builtins.head urls))
, sha256 ? ""
, sha512 ? ""
, hash ? ""
, recursiveHash ? false
, postFetch ? ""
, executable ? false
, passthru ? { }
, meta ? { }
}:
let
  urls' = if url != null then [ url ] ++ urls else urls;
  hashAttrs =
    if hash != "" then { outputHashAlgo = null; outputHash = hash; }
    else if sha512 != "" then { outputHashAlgo = "sha512"; outputHash = sha512; }
    else if sha256 != "" then { outputHashAlgo = "sha256"; outputHash = sha256; }
    else throw "fetchurl requires a hash for fixed-output derivation: ${lib.concatStringsSep ", " urls'}";
  mirrors = {
    gnu = [ "https://ftpmirror.example.org/gnu/" "https://ftp.example.net/gnu/" ];
    sourceforge = [ "https://downloads.example.net/project/" ];
    openbsd = [ "https://ftp.openbsd.example.org/pub/OpenBSD/" ];
    postgresql = [ "https://ftp.postgresql.example.org/pub/" ];
    cpan = [ "https://cpan.example.org/" "https://cpan.example.net/pub/CPAN/" ];
  };
  resolve = u:
    let m = builtins.match "mirror://([a-z]+)/(.*)" u;
    in if m == null then [ u ] else map (base: base + builtins.elemAt m 1) mirrors.${builtins.head m};
  drv = derivation ({
    inherit name system;
    builder = shell;
    args = [ "-e" (builtins.toFile "fetchurl-builder.sh" ''
      for u in $urls; do
        if curl --fail -L -o "$out" "$u"; then break; fi
      done
      runHook postFetch
    '') ];
    urls = lib.concatMap resolve urls';
    outputHashMode = if (recursiveHash || executable) then "recursive" else "flat";
    inherit postFetch executable;
    impureEnvVars = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy" "NIX_CURL_FLAGS" ];
    preferLocalBuild = true;
    __ignoreNulls = true;
  } // lib.optionalAttrs (curl != null) { nativeBuildInputs = [ curl ]; } // hashAttrs);
in
drv // { inherit meta passthru; }
