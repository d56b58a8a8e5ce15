final: prev: {
  python3 = prev.python3.override {
    packageOverrides = pyfinal: pyprev: {
      urllib3 = pyprev.urllib3.overrideAttrs (old: {
        version = "1.26.13";
        doCheck = false;
      });
      rich = pyfinal.buildPythonPackage {
        pname = "rich";
        version = "12.6.0";
        propagatedBuildInputs = [ pyfinal.pygments pyfinal.typing-extensions ];
        pythonImportsCheck = [ "rich" ];
      };
    };
  };
  pythonEnv = final.python3.withPackages (ps: with ps; [ requests flask rich ]);
}
