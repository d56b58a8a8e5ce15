builtins.baseNameOf ./.
