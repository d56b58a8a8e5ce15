# About two hundred generated libraries and applications with dependencies on each other
# and on the hand-written packages, the way a large package set looks from the evaluator.
final: prev:
let
  # The names of the set must not depend on the fixpoint, so lib comes from its file.
  lib = import ../lib;

  prefixes = [ "lib" "py" "go" "rs" "x" "gtk" "qt" "kde" "gnome" "node" "perl" "ocaml" ];
  stems = [ "parse" "compress" "crypt" "net" "audio" "video" "image" "font" "json" "yaml"
    "xml" "sql" "http" "ssh" "term" "gui" "math" "rand" "time" "log" ];

  count = lib.length prefixes * 16;

  nameOf = i:
    let
      p = lib.elemAt prefixes (lib.mod i (lib.length prefixes));
      s = lib.elemAt stems (lib.mod (i / lib.length prefixes + i) (lib.length stems));
    in
    "${p}${s}${toString (i / 7)}";

  versionOf = i:
    lib.concatStringsSep "." (map toString [ (lib.mod i 5) (lib.mod (i * 7) 13) (lib.mod (i * 3) 10) ])
    + lib.optionalString (lib.mod i 11 == 0) "-rc${toString (lib.mod i 3 + 1)}";

  baseDeps = [ "zlib" "openssl" "xz" "bzip2" "libffi" "ncurses" "expat" "pcre2" "sqlite" "libxml2" ];

  # Each library depends on up to three earlier ones and one hand-written package.
  depsOf = i:
    lib.unique (
      lib.optional (i > 0) (nameOf (i / 2))
      ++ lib.optional (i > 4 && lib.mod i 3 == 0) (nameOf (i - 5))
      ++ lib.optional (i > 20 && lib.mod i 4 == 1) (nameOf (i / 3 + 1))
    );
  baseDepOf = i: lib.elemAt baseDeps (lib.mod (i * 5) (lib.length baseDeps));

  specs = lib.genList (i: {
    name = nameOf i;
    version = versionOf i;
    deps = depsOf i;
    baseDep = baseDepOf i;
    kind = if lib.mod i 9 == 4 then "app" else "library";
    outputs = if lib.mod i 9 == 4 then [ "out" "man" ]
      else if lib.mod i 2 == 0 then [ "out" "dev" ] else [ "out" ];
  }) count;

  mkGenerated = spec:
    { stdenv, fetchurl, pkgs, pkg-config, cmake }:
    stdenv.mkDerivation (finalAttrs: {
      pname = spec.name;
      inherit (spec) version outputs;
      src = fetchurl {
        url = "https://sources.example.org/${spec.name}/${spec.name}-${finalAttrs.version}.tar.gz";
        sha256 = builtins.hashString "sha256" "${spec.name}-${spec.version}";
      };
      nativeBuildInputs = [ pkg-config ] ++ lib.optional (spec.kind == "app") cmake;
      buildInputs = map (d: pkgs.${d}) spec.deps ++ [ pkgs.${spec.baseDep} ];
      configureFlags = [ "--enable-shared" ]
        ++ lib.optional (lib.elem "dev" spec.outputs) "--includedir=${placeholder "dev"}/include";
      cmakeFlags = lib.optionals (spec.kind == "app") [ "-DBUILD_TESTING=OFF" "-DCMAKE_BUILD_TYPE=Release" ];
      doCheck = lib.stringLength spec.name > 9;
      postInstall = ''
        mkdir -p $out/share/${spec.name}
        echo ${lib.escapeShellArg "${spec.name} ${finalAttrs.version}"} > $out/share/${spec.name}/VERSION
      '';
      passthru = { inherit spec; };
      meta = {
        description = "Generated ${spec.kind} ${spec.name}";
        license = lib.elemAt (lib.attrValues lib.licenses) (lib.mod (lib.stringLength spec.name) 5);
        platforms = lib.platforms.linux;
      };
    });
in
lib.listToAttrs (map (spec: lib.nameValuePair spec.name (final.callPackage (mkGenerated spec) { })) specs)
// {
  generatedSpecs = specs;
}
