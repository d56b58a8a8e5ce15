builtins.elemAt (builtins.genList (i: if i == 0 then throw "no" else i) 3) 2
