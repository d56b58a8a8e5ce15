
{ system ? "" # ignored, as in CppNix 2.8
, url
, hash ? "" # SRI
, md5 ? "", sha1 ? "", sha256 ? "", sha512 ? ""
, outputHash ?
    if hash != "" then hash
    else if sha512 != "" then sha512
    else if sha1 != "" then sha1
    else if md5 != "" then md5
    else sha256
, outputHashAlgo ?
    if hash != "" then ""
    else if sha512 != "" then "sha512"
    else if sha1 != "" then "sha1"
    else if md5 != "" then "md5"
    else "sha256"
, executable ? false
, unpack ? false
, name ? baseNameOf (toString url)
}:

# <nix/fetchurl.nix>: a fixed-output derivation run by the builtin:fetchurl builder, with the
# same attributes (so the same .drv) as the copy embedded in CppNix 2.8
derivation {
  builder = "builtin:fetchurl";
  system = "builtin";
  inherit name url executable unpack outputHash outputHashAlgo;
  outputHashMode = if unpack || executable then "recursive" else "flat";
  urls = [ url ];
  preferLocalBuild = true;
  # proxies come from the caller's environment (a fixed output may be impure this way)
  impureEnvVars = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy" ];
}
