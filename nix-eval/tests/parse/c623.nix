x:
  x +
  1
