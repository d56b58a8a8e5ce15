# The Python package scope: hand-written packages, generated ones and `buildPythonPackage`.
{ lib, stdenv, fetchurl, python }:
self:
let
  inherit (self) callPackage;

  names = [ "attrs" "six" "idna" "certifi" "charset-normalizer" "urllib3" "packaging" "pyparsing"
    "setuptools-scm" "toml" "tomli" "wheel" "pluggy" "iniconfig" "py" "more-itertools" "zipp"
    "importlib-metadata" "typing-extensions" "markupsafe" "jinja2" "click" "itsdangerous"
    "werkzeug" "pygments" "docutils" "babel" "pytz" "snowballstemmer" "alabaster" "imagesize"
    "sphinxcontrib-jsmath" "pyyaml" "decorator" "wrapt" "cffi" "pycparser" "cryptography" ];

  # Dependencies of the generated packages: two earlier names by a fixed rule.
  depsOf = i:
    lib.unique (lib.optional (i >= 3) (builtins.elemAt names (i / 3))
      ++ lib.optional (i >= 5) (builtins.elemAt names (i - 5)));

  generated = lib.listToAttrs (lib.imap0
    (i: name: lib.nameValuePair name (self.buildPythonPackage {
      pname = name;
      version = "${toString (1 + lib.mod i 4)}.${toString (lib.mod (i * 7) 11)}.${toString (lib.mod i 3)}";
      format = if lib.mod i 3 == 0 then "pyproject" else "setuptools";
      hashSeed = "pypi-${name}";
      propagatedBuildInputs = map (d: self.${d}) (depsOf i);
      doCheck = lib.mod i 2 == 0;
      checkInputs = lib.optional (lib.mod i 2 == 0 && i > 20) self.pytest;
    }))
    names);
in
generated // {
  inherit python;

  buildPythonPackage = { pname, version, format ? "setuptools", hashSeed ? "${pname}-${version}"
    , propagatedBuildInputs ? [ ], nativeBuildInputs ? [ ], doCheck ? true, checkInputs ? [ ]
    , pythonImportsCheck ? [ ], passthru ? { }, meta ? { }, ... }@attrs:
    stdenv.mkDerivation (removeAttrs attrs [ "format" "hashSeed" "pythonImportsCheck" ] // {
      name = "python${python.pythonVersion}-${pname}-${version}";
      src = fetchurl {
        url = "https://files.pythonhosted.example.org/packages/source/${builtins.substring 0 1 pname}/${pname}/${pname}-${version}.tar.gz";
        sha256 = builtins.hashString "sha256" hashSeed;
      };
      nativeBuildInputs = [ python ] ++ nativeBuildInputs;
      inherit propagatedBuildInputs doCheck checkInputs;
      pythonImportsCheck = lib.concatStringsSep " " pythonImportsCheck;
      buildPhase = ''
        runHook preBuild
        ${python.interpreter} -m build --no-isolation --wheel ${lib.optionalString (format == "pyproject") "--skip-dependency-check"}
        runHook postBuild
      '';
      installPhase = ''
        runHook preInstall
        ${python.interpreter} -m installer --prefix "$out" dist/*.whl
        runHook postInstall
      '';
      passthru = { inherit format; pythonModule = python; } // passthru;
      meta = { platforms = python.meta.platforms or lib.platforms.all; } // meta;
    });

  pytest = callPackage ({ buildPythonPackage, attrs, pluggy, iniconfig, packaging, py, tomli }:
    buildPythonPackage rec {
      pname = "pytest";
      version = "7.2.0";
      propagatedBuildInputs = [ attrs pluggy iniconfig packaging py tomli ];
      doCheck = false;
      pythonImportsCheck = [ "pytest" ];
    }) { };

  requests = callPackage ({ buildPythonPackage, certifi, charset-normalizer, idna, urllib3, pytest }:
    buildPythonPackage rec {
      pname = "requests";
      version = "2.28.1";
      propagatedBuildInputs = [ certifi charset-normalizer idna urllib3 ];
      checkInputs = [ pytest ];
      pythonImportsCheck = [ "requests" ];
      meta.license = lib.licenses.asl20;
    }) { };

  flask = callPackage ({ buildPythonPackage, click, itsdangerous, jinja2, werkzeug, pytest }:
    buildPythonPackage {
      pname = "flask";
      version = "2.2.2";
      propagatedBuildInputs = [ click itsdangerous jinja2 werkzeug ];
      checkInputs = [ pytest ];
    }) { };

  sphinx = callPackage ({ buildPythonPackage, babel, alabaster, docutils, imagesize, jinja2, packaging, pygments, requests, snowballstemmer, sphinxcontrib-jsmath }:
    buildPythonPackage {
      pname = "sphinx";
      version = "5.3.0";
      propagatedBuildInputs = [ babel alabaster docutils imagesize jinja2 packaging pygments requests snowballstemmer sphinxcontrib-jsmath ];
      doCheck = false;
    }) { };
}
