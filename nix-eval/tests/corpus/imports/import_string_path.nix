import (toString ./helpers/one.nix)
