import os
cases = []
def c(src): cases.append(src)
# literals
for s in ['1', '0', '007', '9223372036854775807', '9223372036854775808', '99999999999999999999',
          '1.5', '1.', '.5', '0.5', '00.5', '1.5e3', '1.5E-3', '1.e5', '.5e-2', '1e3', '1.0e999', '1.0e-400',
          '1.0e-310', '0.0e-400', '123456.7', '1234567.8', '0.0001', '0.00001', '3.14159265', '2.5e+10',
          '1.5.2', '0.', '100000.0', '1000000.0', '0.1', '1.0']:
    c(s)
# strings
for s in [r'"abc"', r'""', r'"a\"b\\c\nd\te\rf"', r'"\$"', r'"$a $${x}"', r'x: "a${x}b"', r'x: "${x}"',
          r'"${"a"}"', r'"${"a"}${"b"}"', r'x: "x${x}y${x}z"', r'"a$"', r'"a$$"', r'"\${x}"',
          r'"\q\u"', '"multi\nline"', '"cr\r\nlf"', r'"tab	raw"', r'"${"${"x"}"}"', r'x: "${ { a = x; }.a }"',
          r'"unterminated', r'"${', r'"${1', r'"${1}', r'x: "${x', r'"é ü"', r'"a\\"',
          "''abc''", "''''", "''\n  a\n    b\n  ''", "''\n  a\n  b''", "x: ''\n  a ${x}\n    b\n''",
          "''a''$b'''c''\\nd''", "x: ''${x}''", "''${\"a\"}''", "''\n\n  a\n\n  b\n''", "''  a\n b''",
          "''\n    ''${x}\n  y\n''", "''\t a\n  b''", "''$''", "''a$''", "''a'b''", "''a'$''", "''a''",
          "''a", "''${1", "''${1}", "x: ''  ${x}  ''", "''\n  a\n  ''", "''\n  a\n   ''", "''  \n  a''",
          "''\r\n  a\r\n  b''", "x: ''\n  ${x}\n''", "''\n  ''\\t\n''", "'' ''\\  ''"]:
    c(s)
# paths
for s in ['./a', './a/b', 'a/b', '../x', './.', '/abs/path', '/a/b/../c', './a/../../../..', '~/foo', '~/a/../b',
          'x: ./a/${x}', 'x: ./a/${x}/b', 'x: ./${x}', 'x: ./a${x}', 'x: a/${x}', 'x: ~/${x}', 'x: ~/a/${x}b${x}.c',
          '/a/', '~/a/', './a/', 'x: /a/${x}/', '/a/b//c', 'x: /a/${x}//c', '/a/b//c/d ', '(/a/b//c)',
          'x: x/x', 'x: x / x', 'x: x/ x', '<nixpkgs>', '<nixpkgs/lib>', '<a//b>', '< a >', 'x: <a> x', 'a.b/c',
          '/', 'x: /a/${x}b/', './a/${"b"}', 'x: ./a/${x}${x}', 'x: [./a ./b]', '{ a = ./a; }', './a-b_c+d.e',
          'http://x.org/a?b', 'https://example.com/a/b?c=d&e=f#x', 'x:y', 'mailto:a@b', 'x: x:y', 'urn:isbn:123']:
    c(s)
# vars / special
for s in ['x', 'x: x', '__curPos', '_', '__c', '__curPosX', 'true', 'null', 'builtins', '__sub', '__nixPath',
          'fromTOML', 'fetchurl', 'toString', 'a-b', "a'b", 'x: x-1', 'x: x - 1', 'or', 'let or = 1; in or',
          'x: x or', '{ or = 1; }', 'x: x.or', 'x: [ x or ]', 'x: x.a.or', '__findFile', 'derivation', '__derivation']:
    c(s)
# operators
ops = ['+', '-', '*', '/', '++', '//', '==', '!=', '<', '>', '<=', '>=', '&&', '||', '->']
for o in ops:
    c(f'a: b: a {o} b')
    c(f'a: b: c: a {o} b {o} c')
for o1 in ops:
    for o2 in ['+', '*', '==', '<', '//', '&&', '->', '++']:
        if o1 != o2:
            c(f'a: b: c: a {o1} b {o2} c')
for s in ['a: !a', 'a: !a + a', 'a: !a == a', 'a: !!a', 'a: - a', 'a: -a ? b', 'a: - a a', 'a: a + -a',
          'a: - - a', 'a: -a.b', 'a: !a.b', 'a: ! a // a', 'a: a * !a + a', '-1', '(-1)', '- 1.5', '-(-1)',
          'a: a ? b', 'a: a ? b.c', 'a: a ? b ? c', 'a: a ? "b".${a}', 'a: a ++ a ? b', 'a: a.b ? c',
          'a: a ? b == a ? c', 'a: a ? ${"x"}', 'a: a ? or', 'a: b: c: (a - b) c', 'a: b: (a < b) a',
          'a: (-a) a', 'a: (a + a) a', 'a: (a b) a', 'f: x: (f x) x', 'f: x: f (x x)', 'a: (!a) a',
          'a: (a <= a) a', '1 2', '(x: x) 1 2', '"a" "b"', 'a: a a.b a', 'a: a.b.c a.d',
          'a == b == c', 'a: a < a < a', 'a: a == a != a', 'a: a <= a >= a', 'a: a < a == a', 'a: a -> a -> a',
          'a: a // a // a', 'a: a ++ a ++ a', 'a: a - a - a', 'a: a / a / a', 'a: a && a || a && a',
          'a: a || a -> a && a', '1 + + 2', '1 +', '(1 +', '1 2 3 4 +', '1 & 2', '1 ^ 2', '%', 'é', '1 +\n\n',
          '\n\n\n1 +\n\n', '', ' ', '# only a comment', '/* block */ 1', '1 /* unterminated', '1 # c\n+ 2',
          '/* a */ /* b */ 1', '/**/1', '/*/ 1 */ 2', '1/*x*/+/*y*/2', 'a: a*/*x*/a', '1 #x', ')', ']', ';',
          '(1))', '{ a = 1; } }', '1 ++', 'a: a.', 'a: a.b.', 'a: a ?', 'a: a or.b', 'a: a.b or', 'a: a.b or a',
          'a: a.b or a.c or 1', 'a: { a = 1; }.a or 2 3', 'a: a.${"x"}."y"', 'x: x."a b".c', 'x: x.${x}',
          'x: x."${x}"', 'x: x."a${x}"', 'x: x.${x}.y or x', 'x: x.a.b.c.d.e', 'a: a.b.c or (1)']:
    c(s)
# attrsets
for s in ['{}', '{ }', 'rec {}', '{ a = 1; }', '{ b = 1; a = 2; c = 3; zz = 4; aa = 5; }',
          '{ B = 1; a = 2; _ = 3; "a b" = 4; "" = 5; "\\n" = 6; }', '{ "if" = 1; "a-b" = 2; "a\'" = 3; "1a" = 4; }',
          '{ a.b.c = 1; a.d = 2; }', '{ a = 1; a = 2; }', '{ a = {x=1;}; a = {y = 2;}; }', '{ a = {x=1;}; a = {x = 2;}; }',
          '{ a = rec {x=1;}; a.y = 2; }', '{ a.b = 1; a = 2; }', '{ a = 2; a.b = 1; }', '{ a.b = 1; a.b = 2; }',
          '{ a.b.c = 1; a.b.c = 2; }', '{ "a b" = 1; "a b" = 2; }', '{ "a b".c = 1; "a b".c = 2; }',
          'x: { a.${x}.c = 1; a.b = 2; a.b.c = 3; }', 'x: { ${x} = 1; "x${x}" = 2; "y" = 3; }', 'x: { ${x}.a = 1; }',
          '{ ${"a"} = 1; }', '{ ${"a"} = 1; a = 2; }', '{ "${"a"}" = 1; }', 'x: { inherit x; }', '{ inherit x; }',
          'x: { inherit (x) a b "c"; }', 'x: { inherit (x) a; a = 1; }', 'x: { a = 1; inherit x; inherit (x) a; }',
          '{ a = 1; inherit a; }', 'x: {   inherit (x)   a b; a = 1; }', 'x: { inherit x x; }', '{ inherit; }',
          '{ inherit ${a}; }', 'a: { inherit (a) ${a}; }', 'a: { inherit "a${a}"; }', 'a: { inherit ${"x"}; }',
          'a: { inherit "a"; }', 'x: { inherit (x) or; }', 'x: rec { a = x; b = a; }', 'rec { a = b; b = 1; }',
          'x: rec { inherit x; }', '{ a = { b = 1; }; a.c = 2; }', '{ a.c = 2; a = { b = 1; }; }',
          '{ a = { b = 1; }; a = { c = { d = 1; }; }; a.c.e = 2; }', '{ a = let x = 1; in x; }',
          'x: { a = { ${x} = 1; b = 2; }; a = { c = 3; }; }', 'x: { a = { c = 3; }; a = { ${x} = 1; b = 2; }; }',
          '{ a.b = {}; a.b.c = 1; }', 'x: { a = x; a.b = 1; }', '{ a = {}; a = {}; }', 'x: { inherit x; x.y = 1; }',
          '{ a = 1 }', '{ a = }', '{ a', '{ a =', '{ a = 1;', '{', '{ inherit', '{ inherit a', '{ inherit (a',
          '{ inherit (1)', '{ inherit (1) a', '{ a b = 1; }', '{ 1 = 2; }', '{ a.1 = 2; }', '{ a = 1; } . a',
          '{ a = 1; }.a', 'x: { x = 1; }.x', '{ a = 1; }."a"', 'rec', 'rec { a = 1; }.a', '{ "a" = 1; }',
          'x: { "${x}" = 1; }', 'x: { "a"."b" = 1; }', 'x: { a = x: x; }', 'x: { a = 1; ${x} = 2; ${x} = 3; }']:
    c(s)
# let
for s in ['let a = 1; in a', 'let a = 1; b = 2; in a + b', 'let b = 1; a = 2; in a', 'let in 1', 'x: let in x',
          'let a = 1; a = 2; in a', 'let ${"a"} = 1; in a', 'x: let ${x} = 1; in 1', 'x: let a.${x} = 1; in a',
          'let a.b = 1; a.c = 2; in a', 'x: let inherit x; in x', 'x: let y = 1; inherit x; inherit ({}) z; in y',
          'let x = 1; a1 = 1; a2 = 1; a3 = 1; in 1', 'let f = b: 1; a1 = 1; b = 1; in 1', 'b: let a1 = 1; b = 1; in 1',
          'let line = 1; a = 2; true = 3; in 1', 'let y = 1; z = 2; x = 3; in y', 'let map = 1; aa = 2; in map',
          'let aa = 1; map = 2; in map', 'let { body = 1; }', 'let { body = 1; x = 2; }', 'let { x = 1; }',
          'let { body = 1; inherit body; }', 'let { a = 1; body = a; }.x', 'let', 'let a', 'let a = 1;',
          'let a = 1 in a', 'let a = 1; in', 'let a = 1; in a b', 'let a = {}; a.b = 1; in a',
          'x: let a = x; b = a; c = b; in c', 'let a = 1; in let b = a; in b', 'let x = y; y = x; in x',
          'let f = {a}: a; in f', 'let a = let b = 1; in b; in a', 'let inherit ({a=1;}) a; in a',
          'let x = {a=1;}; inherit (x) a; in a', 'let a = 1; in { inherit a; }', 'let rec = 1; in rec',
          'let "a" = 1; in a', 'let "a b" = 1; in 1', 'x: let "${x}" = 1; in 1', 'let a = 1; inherit a; in a']:
    c(s)
# functions
for s in ['x: x', 'x: y: x', '{}: 1', '{ }@x: 1', 'x@{}: 1', '{ a }: a', '{ a, b }: a', '{b, a, c ? 1}: a',
          '{ a ? 1, b ? a }: b', '{ a, ... }: a', '{ ... }: 1', '{ a, ... }@x: x', 'x@{ a, ... }: x',
          '{a}@a: a', 'a@{a}: a', '{a, a, b}: a', '{a, b, a}: a', '{b, b, a, a}: 1', '{a,}: 1', '{a, b,}: 1',
          '{...,}: 1', '{..., a}: 1', '{a, b', '{a ? 1', '{a ?', '{a, ...', '{a, ...}', '{a, ...}:', '{...}', 'a @',
          'a:', 'x: y: z: x y z', '{ a ? { b = 1; } }: a', '{ a ? x: x }: a', 'a: { a }: a', '{ a, b ? a }@c: c',
          '{ or }: 1', '{ a b }: a', '{ a, }@x: x', '{ a }@{ b }: 1', 'x @ { a }: x', '{ a } @ x: x', '{a}: {b}: a',
          '{ a ? b }: a', 'x: { inherit x; }: 1', '{ a, b }', '{ a }', '{ a ? 1 }', '{ , a }: a', '({x, x}: x)']:
    c(s)
# control
for s in ['if true then 1 else 2', 'if', 'if 1', 'if 1 then', 'if 1 then 2', 'if 1 then 2 else', 'assert true; 1',
          'assert', 'assert 1', 'assert 1;', 'with {}; x', 'with 1', 'with {}; with {}; a b c', 'x: with x; y',
          '{ a = with {}; z; b = y; }', 'with {}; let a = z; in a', 'x: assert x; x', 'x: if x then x else x x',
          'x: if x then if x then 1 else 2 else 3', 'x: assert x; assert x; x', 'x: x (if x then 1 else 2)',
          'x: [ (if x then 1 else 2) ]', 'x: with x; assert x; if x then x else x', 'x: (with x; y) z',
          'with {}; { inherit z; }', '{ inherit z; } // (with {}; {})', 'x: with x; { inherit x y; }']:
    c(s)
# lists
for s in ['[]', '[ ]', '[1 2 [] [3]]', '[ 1 2 3 ]', 'x: [ x x.a (x x) ]', '[1 2', '[ a: a ]', '[1 2 (3) a: a]',
          'x: [ x.a or 1 ]', 'x: [ -x ]', 'x: [ (-x) ]', '[ [ [ ] ] ]', '[ "a" ./a {} ]', '[ ]]',
          'x: [ x or ]', '[ let ]', '[ rec { a = 1; } ]', '[ let { body = 1; } ]']:
    c(s)
# misc realistic
c('''{ lib, stdenv, fetchurl, ... }:

stdenv.mkDerivation rec {
  pname = "hello";
  version = "2.12";
  src = fetchurl {
    url = "mirror://gnu/hello/${pname}-${version}.tar.gz";
    sha256 = "1ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g";
  };
  doCheck = true;
  meta = with lib; {
    description = "A program that produces a familiar, friendly greeting";
    longDescription = \'\'
      GNU Hello is a program that prints "Hello, world!" when you run it.
      It is fully customizable.
    \'\';
    homepage = "https://www.gnu.org/software/hello/manual/";
    license = licenses.gpl3Plus;
    platforms = platforms.all;
  };
}
''')
c('''let
  inherit (builtins) map filter;
  f = x: x * 2;
  xs = [ 1 2 3 ];
in
  map f (filter (x: x > 1) xs)
''')
c('''{ pkgs ? import <nixpkgs> {} }:
pkgs.mkShell {
  buildInputs = with pkgs; [ git (python3.withPackages (p: [ p.requests ])) ];
  shellHook = \'\'
    echo "hi ${pkgs.hello.name}"
    export X=''${HOME}
  \'\';
}
''')
c('self: super: { foo = super.foo.overrideAttrs (old: { patches = (old.patches or []) ++ [ ./fix.patch ]; }); }')
c('x: { a.b.c = 1; a.b.d = x; a.e = { f = 1; }; a.e.g = 2; "q r".s = 3; }')
c('{ a = 1;\n  b = x;\n  c = 3;\n}')
c('{\n  a = 1;\n  b = 2\n}')
c('\n\n{\n  a = 1;\n\n  a = 2;\n}\n')
c('# comment\n/* c2 */\nx: # trailing\n  x /* mid */ + 1\n')
c('x:\r\n  x +\r\n  1\r\n')
c('x:\r  x\r')
c('let\n  a = 1;\n  b = c;\nin\n  a\n')
c('{\n  x = ./foo;\n  y = ../bar/baz;\n  z = /nix/store;\n}')
c('[\n  1\n  2\n')
c('"\n\nabc\n')
c('{\n\tb\t=\t1;\n\ta = 2;\n\ta = 3;\n}')
c('x: {\n  inherit\n    (x)\n    a\n    b;\n  b = 1;\n}')
os.makedirs('.', exist_ok=True)
seen = set()
n = 0
for src in cases:
    if src in seen: continue
    seen.add(src)
    n += 1
    open(f'c{n:03d}.nix', 'w', newline='').write(src)
print(n)
