builtins.fromTOML ''
  a = 1
  b = "x"
  [t]
  c = [1, 2]
  [[arr]]
  d = 1.5
''
