final: prev: {
  openssl = prev.openssl.override { enableKTLS = true; };
  openssh = (prev.openssh.override { withKerberos = false; }).overrideAttrs (old: {
    configureFlags = old.configureFlags ++ [ "--with-security-key-builtin" ];
    hardeningEnable = old.hardeningEnable ++ [ "stackprotector" ];
  });
  curl = prev.curl.override { scpSupport = false; };
}
