# nixrs-flags: 
[ (1 + 1) "lit" 3 ]
