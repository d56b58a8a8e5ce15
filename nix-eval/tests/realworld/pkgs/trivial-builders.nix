{ lib, stdenv }:
rec {
  runCommand = name: env: buildCommand:
    stdenv.mkDerivation ({
      inherit name buildCommand;
      passAsFile = [ "buildCommand" ] ++ (env.passAsFile or [ ]);
    } // removeAttrs env [ "passAsFile" ]);

  writeTextFile = { name, text, executable ? false, destination ? "", checkPhase ? "" }:
    runCommand name
      {
        inherit text executable checkPhase destination;
        passAsFile = [ "text" ];
        preferLocalBuild = true;
        allowSubstitutes = false;
      } ''
      target=$out${lib.escapeShellArg destination}
      mkdir -p "$(dirname "$target")"
      mv "$textPath" "$target"
      eval "$checkPhase"
      ${lib.optionalString executable ''chmod +x "$target"''}
    '';

  writeText = name: text: writeTextFile { inherit name text; };
  writeScript = name: text: writeTextFile { inherit name text; executable = true; };
  writeShellScript = name: text: writeTextFile {
    inherit name;
    executable = true;
    text = ''
      #!${stdenv.shell}
      ${text}
    '';
    checkPhase = "${stdenv.shell} -n $target";
  };
  writeShellScriptBin = name: text: writeTextFile {
    inherit name;
    executable = true;
    destination = "/bin/${name}";
    text = ''
      #!${stdenv.shell}
      ${text}
    '';
  };

  symlinkJoin = { name, paths, preferLocalBuild ? true, postBuild ? "", ... }@args:
    runCommand name
      (removeAttrs args [ "name" "postBuild" ] // {
        inherit preferLocalBuild postBuild;
        paths = map toString paths;
        passAsFile = [ "paths" ];
      }) ''
      mkdir -p $out
      for i in $(cat $pathsPath); do
        cp -rs $i/* $out/ || true
      done
      ${postBuild}
    '';

  buildEnv = { name, paths, pathsToLink ? [ "/" ], extraOutputsToInstall ? [ ], meta ? { } }:
    runCommand name
      {
        inherit meta;
        pkgs = builtins.toJSON (map (drv: {
          paths = map (o: drv.${o}) (lib.filter (o: drv ? ${o}) ([ "out" ] ++ extraOutputsToInstall));
          priority = drv.meta.priority or 5;
        }) paths);
        inherit pathsToLink;
        passAsFile = [ "pkgs" ];
      } ''
      ${stdenv.shell} ${builtins.toFile "builder.sh" "echo building env"} $pkgsPath
    '';
}
