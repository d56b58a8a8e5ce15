x: {
  inherit
    (x)
    a
    b;
  b = 1;
}