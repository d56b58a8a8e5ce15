builtins.hashFile "sha256" ./data.txt
