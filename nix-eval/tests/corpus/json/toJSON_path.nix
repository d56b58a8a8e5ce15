builtins.toJSON ./data.txt
