//! Core evaluator behaviour: value size, laziness, recursion depth, errors.

use nix_eval::{Evaluator, Value};

fn eval_strict(expr: &str) -> Result<String, String> {
    let mut ev = Evaluator::builder().build();
    let r = ev.eval_expr(expr, "/").and_then(|v| ev.force_deep(&v));
    match r {
        Ok(v) => Ok(ev.print(&v)),
        Err(e) => Err(ev.render_error(&e)),
    }
}

#[test]
fn value_is_16_bytes() {
    assert_eq!(std::mem::size_of::<Value>(), 16);
    assert_eq!(std::mem::size_of::<nix_eval::Error>(), 8);
}

#[test]
fn arithmetic_and_printing() -> Result<(), String> {
    assert_eq!(
        eval_strict("9223372036854775807 + 1")?,
        "-9223372036854775808"
    );
    assert_eq!(eval_strict("(-7) / 2")?, "-3");
    assert_eq!(eval_strict("1.0 / 3")?, "0.333333");
    assert_eq!(
        eval_strict("{ b = 1; a = [ 1 \"x\" null ]; }")?,
        "{ a = [ 1 \"x\" null ]; b = 1; }"
    );
    Ok(())
}

#[test]
fn laziness_and_sharing() -> Result<(), String> {
    assert_eq!(eval_strict("let x = throw \"no\"; in 1")?, "1");
    assert_eq!(
        eval_strict("builtins.length [ (throw \"a\") (throw \"b\") ]")?,
        "2"
    );
    assert_eq!(eval_strict("(rec { a = b; b = 2; }).a")?, "2");
    assert_eq!(eval_strict("let a = { x = 1; }; in with a; x")?, "1");
    assert_eq!(eval_strict("let x = 1; in with { x = 2; }; x")?, "1");
    assert_eq!(eval_strict("with { x = 1; }; with { x = 2; }; x")?, "2");
    Ok(())
}

#[test]
fn infinite_recursion_is_an_error() {
    let e = eval_strict("let x = x; in x").err().unwrap_or_default();
    assert!(
        e.starts_with("error: infinite recursion encountered"),
        "{e}"
    );
}

#[test]
fn deep_recursion_does_not_crash() -> Result<(), String> {
    assert_eq!(
        eval_strict("let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 100000")?,
        "100000"
    );
    Ok(())
}

#[test]
fn foldl_over_a_million() -> Result<(), String> {
    assert_eq!(
        eval_strict("builtins.foldl' (a: b: a + b) 0 (builtins.genList (i: i) 1000000)")?,
        "499999500000"
    );
    Ok(())
}

#[test]
fn deep_thunk_chain() -> Result<(), String> {
    assert_eq!(
        eval_strict("(builtins.foldl' (acc: i: { v = acc.v + 1; }) { v = 0; } (builtins.genList (i: i) 100000)).v")?,
        "100000"
    );
    Ok(())
}

#[test]
fn substring_shares() -> Result<(), String> {
    assert_eq!(
        eval_strict("let s = builtins.concatStringsSep \",\" (builtins.genList toString 1000); in builtins.substring 3 5 s")?,
        "\",2,3,\""
    );
    Ok(())
}

/// Scopes of more than 16 names resolve through an index (`lower::Vars`): the same answers as
/// small scopes, inner bindings shadowing outer ones, `with` losing to lexical bindings, and a
/// shadowed operator builtin (`__sub`) in a large `let` used by `-`.
#[test]
fn large_scopes_resolve_like_small_ones() -> Result<(), String> {
    let names: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
    let binds: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i == 0 {
                format!("{n} = 1; ")
            } else {
                format!("{n} = v{} + 1; ", i - 1)
            }
        })
        .collect();
    assert_eq!(eval_strict(&format!("let {binds} in v39"))?, "40");
    assert_eq!(eval_strict(&format!("(rec {{ {binds} }}).v39"))?, "40");
    // an outer large scope shadowed by an inner small one and the other way round
    assert_eq!(
        eval_strict(&format!("let {binds} in let v3 = 100; in v3 + v4"))?,
        "105"
    );
    assert_eq!(
        eval_strict(&format!(
            "let v3 = 100; v50 = 7; in let {binds} in v3 + v50"
        ))?,
        "11"
    );
    // lexical bindings of a large scope win over `with`
    assert_eq!(
        eval_strict(&format!(
            "let {binds} in with {{ v10 = 0; zz = 5; }}; v10 + zz"
        ))?,
        "16"
    );
    // a large formals list
    let formals = names.join(", ");
    let args: String = names.iter().map(|n| format!("{n} = 2; ")).collect();
    assert_eq!(
        eval_strict(&format!("({{ {formals} }}: v0 * v39) {{ {args} }}"))?,
        "4"
    );
    // `-` uses a `__sub` bound in a large scope
    assert_eq!(
        eval_strict(&format!("let {binds} __sub = a: b: 42; in 5 - 3"))?,
        "42"
    );
    Ok(())
}

/// `inherit (e) a b c;` lowers `e` once per name (the tree of `e` is copied for all but the
/// last name); answers checked against CppNix 2.8.
#[test]
fn inherit_from_sources_used_by_several_names() -> Result<(), String> {
    assert_eq!(
        eval_strict("rec { inherit ({ a = b; b = 2; c = x: x; }) a b c; }")?,
        "{ a = 2; b = 2; c = <LAMBDA>; }"
    );
    assert_eq!(
        eval_strict("let inherit ({ a = 1; b = 2; }) a b; c = 3; in [ a b c ]")?,
        "[ 1 2 3 ]"
    );
    // two sources in one set, one of them used once
    assert_eq!(
        eval_strict(
            "let s = { x = 1; y = 2; }; t = { z = 3; }; in \
             { inherit (s) x y; inherit (t) z; }"
        )?,
        "{ x = 1; y = 2; z = 3; }"
    );
    // a source no name uses is never lowered (CppNix: no undefined-variable error)
    assert_eq!(eval_strict("let inherit (undefinedX); in 1")?, "1");
    let e = eval_strict("{ inherit (undefinedX) a b; }").unwrap_err();
    assert!(e.contains("undefined variable 'undefinedX'"), "{e}");
    Ok(())
}

/// Lowering consumes the tree recursively; the nesting the parser accepts still lowers
/// (the public entry points run on a large stack), also from a thread with a small stack.
#[test]
fn deep_trees_lower() -> Result<(), String> {
    let r = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let chain = vec!["1"; 5990].join("+");
            let parens = format!("{}1{}", "(".repeat(1999), ")".repeat(1999));
            let lets = format!("{}1{}", "let a = ".repeat(1900), " ; in a".repeat(1900));
            [
                eval_strict(&chain),
                eval_strict(&parens),
                eval_strict(&lets),
            ]
        })
        .map_err(|e| e.to_string())?
        .join()
        .map_err(|_| "lowering thread panicked")?;
    assert_eq!(r, [Ok("5990".to_string()), Ok("1".into()), Ok("1".into())]);
    Ok(())
}
