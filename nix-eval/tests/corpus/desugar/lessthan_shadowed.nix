# `<` `>` `<=` `>=` all go through `__lessThan` (swapped and negated).
{
  fromArg = (__lessThan: [ (1 < 2) (1 > 2) ]) (a: b: [ a b ]);
  lt = let __lessThan = a: b: [ a b ]; in [ (1 < 2) (3 > 4) ];
  le = let __lessThan = a: b: a == 2; in [ (1 <= 2) (2 <= 1) (2 >= 1) (1 >= 2) ];
}
