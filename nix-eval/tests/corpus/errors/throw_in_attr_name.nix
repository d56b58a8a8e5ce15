{ ${throw "name"} = 1; }
