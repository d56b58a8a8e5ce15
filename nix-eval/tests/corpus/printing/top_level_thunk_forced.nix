# nixrs-flags: 
1 + 1
