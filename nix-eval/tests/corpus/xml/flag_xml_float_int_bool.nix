# nixrs-flags: --strict --xml
[ 1.5 (-2) false ]
