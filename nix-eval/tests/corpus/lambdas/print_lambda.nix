# nixrs-flags: 
x: x
