''
  a '''quoted''' b
  dollar ''${x}
  tab ''\t nl ''\n
''
