x: ''
  a ${x}
    b
''