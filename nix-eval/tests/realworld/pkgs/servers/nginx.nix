{ lib, stdenv, fetchurl, openssl, zlib, pcre2, modules ? [ ], withStream ? true, withMail ? false }:
let
  moduleFlags = map (m: "--add-module=${m.src}") modules;
in
stdenv.mkDerivation (finalAttrs: {
  pname = "nginx";
  version = "1.22.1";
  src = fetchurl {
    url = "https://nginx.example.org/download/nginx-${finalAttrs.version}.tar.gz";
    sha256 = builtins.hashString "sha256" "nginx-${finalAttrs.version}";
  };
  outputs = [ "out" "doc" ];
  buildInputs = [ openssl zlib pcre2 ];
  configureFlags = [
    "--with-http_ssl_module"
    "--with-http_v2_module"
    "--with-http_realip_module"
    "--with-http_gzip_static_module"
    "--with-threads"
    "--http-log-path=/var/log/nginx/access.log"
    "--error-log-path=/var/log/nginx/error.log"
    "--pid-path=/var/log/nginx/nginx.pid"
  ] ++ lib.optionals withStream [ "--with-stream" "--with-stream_ssl_module" ]
    ++ lib.optional withMail "--with-mail"
    ++ moduleFlags;
  NIX_CFLAGS_COMPILE = toString [ "-I${lib.getDev openssl}/include" "-Wno-error=implicit-fallthrough" ];
  preConfigure = ''
    setOutputFlags=
  '';
  postInstall = ''
    mv $out/sbin $out/bin
  '';
  passthru = {
    inherit modules;
  };
  meta = with lib; {
    description = "A reverse proxy and lightweight webserver";
    license = licenses.bsd3;
    platforms = platforms.all;
  };
})
