{ lib }:
let
  inherit (builtins) length elemAt head tail genList;
in
rec {
  inherit (builtins) elem head tail length elemAt filter map concatMap concatLists genList
    foldl' any all partition;

  singleton = x: [ x ];

  foldr = op: nul: list:
    let
      len = length list;
      fold' = n: if n == len then nul else op (elemAt list n) (fold' (n + 1));
    in
    fold' 0;

  foldl = op: nul: list:
    let
      foldl' = n: if n == -1 then nul else op (foldl' (n - 1)) (elemAt list n);
    in
    foldl' (length list - 1);

  imap0 = f: list: genList (n: f n (elemAt list n)) (length list);
  imap1 = f: list: genList (n: f (n + 1) (elemAt list n)) (length list);

  flatten = x: if builtins.isList x then concatMap (y: flatten y) x else [ x ];

  remove = e: filter (x: x != e);

  findFirst = pred: default: list:
    let found = filter pred list;
    in if found == [ ] then default else head found;

  count = pred: builtins.foldl' (c: x: if pred x then c + 1 else c) 0;

  optional = cond: elem: if cond then [ elem ] else [ ];
  optionals = cond: elems: if cond then elems else [ ];

  toList = x: if builtins.isList x then x else [ x ];

  range = first: last:
    if first > last then [ ] else genList (n: first + n) (last - first + 1);

  unique = builtins.foldl' (acc: e: if elem e acc then acc else acc ++ [ e ]) [ ];

  intersectLists = e: filter (x: elem x e);
  subtractLists = e: filter (x: !(elem x e));

  last = list: assert list != [ ]; elemAt list (length list - 1);
  init = list: assert list != [ ]; take (length list - 1) list;

  sublist = start: count: list:
    let len = length list; in
    genList (n: elemAt list (n + start))
      (if start >= len then 0
       else if start + count > len then len - start
       else count);

  take = count: sublist 0 count;
  drop = count: list: sublist count (length list) list;

  reverseList = xs: let l = length xs; in genList (n: elemAt xs (l - n - 1)) l;

  sort = builtins.sort;

  # Sorts strings with embedded numbers by their numeric value ("a2" before "a10").
  naturalSort = lst:
    let
      vectorise = s: map (x: if builtins.isList x then lib.toInt (head x) else x)
        (builtins.split "(0|[1-9][0-9]*)" s);
      prepared = map (x: [ (vectorise x) x ]) lst;
      less = a: b: (compareLists lib.trivial.compare' (head a) (head b)) < 0;
    in
    map (x: elemAt x 1) (builtins.sort less prepared);

  compareLists = cmp: a: b:
    if a == [ ] then (if b == [ ] then 0 else -1)
    else if b == [ ] then 1
    else
      let rel = cmp (head a) (head b);
      in if rel == 0 then compareLists cmp (tail a) (tail b) else rel;

  # Depth-first search from every element; `before a b` means a must come before b.
  listDfs = stopOnCycles: before: list:
    let
      dfs' = us: visited: rest:
        let
          c = filter (x: before x us) visited;
          b = partition (x: before x us) rest;
        in
        if stopOnCycles && (length c > 0)
        then { cycle = us; loops = c; inherit visited rest; }
        else if length b.right == 0
        then { minimal = us; inherit visited rest; }
        else dfs' (head b.right) ([ us ] ++ visited) (tail b.right ++ b.wrong);
    in
    dfs' (head list) [ ] (tail list);

  toposort = before: list:
    let
      dfsthis = listDfs true before list;
      toporest = toposort before (dfsthis.visited ++ dfsthis.rest);
    in
    if length list < 2 then { result = list; }
    else if dfsthis ? cycle then { cycle = reverseList ([ dfsthis.cycle ] ++ dfsthis.visited); inherit (dfsthis) loops; }
    else if toporest ? cycle then toporest
    else { result = [ dfsthis.minimal ] ++ toporest.result; };

  groupBy' = op: nul: pred: lst:
    builtins.mapAttrs (name: foldl op nul) (builtins.groupBy pred lst);

  zipListsWith = f: fst: snd:
    genList (n: f (elemAt fst n) (elemAt snd n)) (lib.min (length fst) (length snd));

  zipLists = zipListsWith (fst: snd: { inherit fst snd; });
}
