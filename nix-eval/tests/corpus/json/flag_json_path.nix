# nixrs-flags: --strict --json
./jfile.txt
