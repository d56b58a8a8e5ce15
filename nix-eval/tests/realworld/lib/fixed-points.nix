{ lib }:
rec {
  fix = f: let x = f x; in x;

  # Like fix, but also records the unfixed function in `__unfix__`.
  fix' = f: let x = f x // { __unfix__ = f; }; in x;

  # Extends a function of `final` with an overlay `final: prev: { … }`.
  extends = overlay: f: final:
    let prev = f final;
    in prev // overlay final prev;

  composeExtensions = f: g: final: prev:
    let
      fApplied = f final prev;
      prev' = prev // fApplied;
    in
    fApplied // g final prev';

  composeManyExtensions = lib.foldr (x: y: composeExtensions x y) (final: prev: { });

  makeExtensible = makeExtensibleWithCustomName "extend";

  makeExtensibleWithCustomName = extenderName: rattrs:
    fix' (self: (rattrs self) // {
      ${extenderName} = f: makeExtensibleWithCustomName extenderName (extends f rattrs);
    });
}
