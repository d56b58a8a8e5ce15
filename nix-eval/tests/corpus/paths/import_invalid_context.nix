import (builtins.toFile "nixrs-corpus-not-added.nix" "1")
