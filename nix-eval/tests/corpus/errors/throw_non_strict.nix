# nixrs-flags: 
[ 1 (throw "inside") ]
