# nixrs-flags: --json
[ 1 { a = 2; b = builtins.abort "stop"; } 3 ]
