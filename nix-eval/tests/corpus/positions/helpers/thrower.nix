x:
  if x > 3 then throw "too big: ${toString x}" else x
