# nixrs-flags: --strict --xml
./xfile
