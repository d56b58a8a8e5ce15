{ lib, stdenv, fetchurl, zlib, xz, pkg-config, python3 ? null, pythonSupport ? false, icuSupport ? false }:
assert pythonSupport -> python3 != null;
stdenv.mkDerivation rec {
  pname = "libxml2";
  version = "2.10.3";
  outputs = [ "bin" "dev" "out" "doc" ] ++ lib.optional pythonSupport "py";
  src = fetchurl {
    url = "mirror://gnu/libxml2/${lib.versions.majorMinor version}/${pname}-${version}.tar.xz";
    sha256 = builtins.hashString "sha256" "${pname}-${version}";
  };
  strictDeps = true;
  nativeBuildInputs = [ pkg-config ];
  buildInputs = lib.optionals pythonSupport [ python3 ];
  propagatedBuildInputs = [ zlib xz ];
  configureFlags = [
    "--exec-prefix=${placeholder "dev"}"
    (lib.enableFeature true "shared")
    (lib.withFeature icuSupport "icu")
    (lib.withFeatureAs pythonSupport "python" (if python3 != null then python3.sitePackages else ""))
  ];
  enableParallelBuilding = true;
  doCheck = stdenv.isLinux && !pythonSupport;
  passthru = { inherit pythonSupport; };
  meta.license = lib.licenses.mit;
}
