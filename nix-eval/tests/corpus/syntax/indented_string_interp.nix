let v = 3; in ''
  value: ${toString v}
  end
''
