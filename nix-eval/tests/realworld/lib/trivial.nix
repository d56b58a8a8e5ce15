{ lib }:
rec {
  id = x: x;
  const = x: _: x;
  flip = f: a: b: f b a;
  pipe = val: functions: builtins.foldl' (x: f: f x) val functions;
  concat = x: y: x ++ y;
  or = x: y: x || y;
  and = x: y: x && y;
  boolToString = b: if b then "true" else "false";
  mod = base: int: base - (int * (builtins.div base int));
  min = x: y: if x < y then x else y;
  max = x: y: if x > y then x else y;
  compare' = a: b: if a < b then -1 else if a > b then 1 else 0;

  # A function, or a set with `__functor`, can be called.
  isFunction = f: builtins.isFunction f || (f ? __functor && isFunction (f.__functor f));

  # Formal arguments of a function, looking through functors that declare `__functionArgs`.
  functionArgs = f:
    if f ? __functor
    then f.__functionArgs or (functionArgs (f.__functor f))
    else builtins.functionArgs f;

  setFunctionArgs = f: args: {
    __functor = self: f;
    __functionArgs = args;
  };

  # Digits of `i` in base `base`, most significant first.
  toBaseDigits = base: i:
    let
      go = i:
        if i < base then [ i ]
        else
          let r = i - ((i / base) * base); q = (i - r) / base;
          in [ r ] ++ go q;
    in
    assert (base >= 2); assert (i >= 0);
    lib.reverseList (go i);

  inNixShell = false;

  warnIf = cond: msg: if cond then builtins.trace "warning: ${msg}" else id;
}
