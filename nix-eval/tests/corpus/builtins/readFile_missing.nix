builtins.readFile ./nonexistent.txt
