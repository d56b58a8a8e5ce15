{ lib, stdenv, fetchurl, zlib, openssl, withKerberos ? false, etcDir ? "/etc/ssh" }:
stdenv.mkDerivation rec {
  pname = "openssh";
  version = "9.1p1";
  src = fetchurl {
    url = "mirror://openbsd/OpenSSH/portable/openssh-${version}.tar.gz";
    sha256 = builtins.hashString "sha256" "openssh-${version}";
  };
  buildInputs = [ zlib openssl ];
  configureFlags = [
    "--sbindir=\${out}/bin"
    "--localstatedir=/var"
    "--with-pid-dir=/run"
    "--with-mantype=man"
    "--with-libedit=no"
    "--disable-strip"
  ] ++ lib.optional (etcDir != null) "--sysconfdir=${etcDir}"
    ++ lib.optional withKerberos "--with-kerberos5";
  enableParallelBuilding = true;
  hardeningEnable = [ "pie" ];
  doCheck = false;
  installTargets = [ "install-nokeys" ];
  installFlags = [ "sysconfdir=\${out}/etc/ssh" ];
  meta.license = { spdxId = "BSD-2-Clause"; fullName = "BSD 2-clause License"; free = true; };
}
