assert ({ a, b ? 1, ... }@args: false) { a = 1; }; 1
