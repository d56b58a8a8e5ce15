let
  f = { x, y }:
    x + y;
in f { x = 1; }
