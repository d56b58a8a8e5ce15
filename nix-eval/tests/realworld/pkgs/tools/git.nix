{ lib, stdenv, fetchurl, curl, openssl, zlib, expat, perl, python3, gettext ? null, pcre2
, perlSupport ? true, pythonSupport ? true, withManual ? true, withpcre2 ? true }:
let
  svn = null;
in
stdenv.mkDerivation (finalAttrs: {
  pname = "git";
  version = "2.38.1";
  src = fetchurl {
    url = "https://www.kernel.example.org/pub/software/scm/git/git-${finalAttrs.version}.tar.xz";
    sha256 = builtins.hashString "sha256" "git-${finalAttrs.version}";
  };
  outputs = [ "out" ] ++ lib.optional withManual "doc";
  separateDebugInfo = true;
  hardeningDisable = [ "format" ];
  enableParallelBuilding = true;
  patches = [
    ../../patches/git-sh-i18n.patch
    ../../patches/git-ssh-path.patch
  ];
  nativeBuildInputs = lib.optionals withManual [ perl ];
  buildInputs = [ curl openssl zlib expat ]
    ++ lib.optionals perlSupport [ perl ]
    ++ lib.optionals pythonSupport [ python3 ]
    ++ lib.optionals withpcre2 [ pcre2 ];
  makeFlags = [
    "prefix=\${out}"
    "SHELL_PATH=${stdenv.shell}"
  ]
  ++ (if perlSupport then [ "PERL_PATH=${perl}/bin/perl" ] else [ "NO_PERL=1" ])
  ++ (if pythonSupport then [ "PYTHON_PATH=${python3}/bin/python" ] else [ "NO_PYTHON=1" ])
  ++ lib.optional withpcre2 "USE_LIBPCRE2=1";
  svnSupport = svn != null;
  postInstall = ''
    notSupported() {
      unlink $1 || true
    }
    ${lib.optionalString (!perlSupport) "notSupported $out/libexec/git-core/git-svn"}
    mkdir -p $out/share/bash-completion/completions
    ln -s $out/share/git/contrib/completion/git-completion.bash $out/share/bash-completion/completions/git
  '';
  passthru = {
    shellPath = "/bin/git-shell";
    tests = {
      withInstallCheck = finalAttrs.finalPackage.overrideAttrs (_: { doInstallCheck = true; });
    };
  };
  meta = with lib; {
    homepage = "https://git-scm.example.org/";
    description = "Distributed version control system";
    license = licenses.gpl2Plus;
    platforms = platforms.all;
    maintainers = with maintainers; [ alice bob ];
  };
})
