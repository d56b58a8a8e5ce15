(derivation { name = "a"; system = "x"; builder = "/b"; outputHashAlgo = "sha3"; outputHash = "abc"; }).outPath
