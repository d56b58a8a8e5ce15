# scopedImport's attributes are variables of the imported file, so they change its operators.
[
  (builtins.scopedImport { __sub = a: b: "sub"; __lessThan = a: b: "lt"; } ./helpers/ops.nix)
  (import ./helpers/ops.nix)
]
