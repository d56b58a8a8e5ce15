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
