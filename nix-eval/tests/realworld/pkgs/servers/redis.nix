{ lib, stdenv, fetchurl, openssl, withSystemd ? false, tlsSupport ? true }:
stdenv.mkDerivation (finalAttrs: {
  pname = "redis";
  version = "7.0.5";
  src = fetchurl {
    url = "https://download.redis.example.org/releases/redis-${finalAttrs.version}.tar.gz";
    hash = "sha256-ZssClEgskX82xCtQ3tRQJ7KAe/1sR9UHTwI3ccxQ0n8=";
  };
  buildInputs = lib.optional tlsSupport openssl;
  makeFlags = [ "PREFIX=${placeholder "out"}" ]
    ++ lib.optional tlsSupport "BUILD_TLS=yes"
    ++ lib.optional withSystemd "USE_SYSTEMD=yes";
  enableParallelBuilding = true;
  hardeningEnable = [ "pie" ];
  NIX_CFLAGS_COMPILE = lib.optionals stdenv.cc.isClang or false [ "-std=c11" ];
  doCheck = false;
  meta = with lib; {
    homepage = "https://redis.example.org";
    description = "An open source, advanced key-value store";
    license = licenses.bsd3;
    platforms = platforms.linux;
  };
})
