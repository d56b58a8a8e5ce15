{
  x = ./foo;
  y = ../bar/baz;
  z = /nix/store;
}