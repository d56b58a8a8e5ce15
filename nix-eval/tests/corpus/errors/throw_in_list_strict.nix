[ 1 (throw "inside") ]
