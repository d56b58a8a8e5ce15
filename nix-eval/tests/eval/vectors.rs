//! Every case of `shared/testvectors/eval.json` (CppNix 2.8's exact stdout, stderr and exit
//! code of `nix-instantiate --eval [--strict|--json|--xml] -E EXPR`) through the library,
//! emulating the CLI's printing.

use std::path::Path;

use nix_eval::value::Context;
use nix_eval::{Evaluator, Value};

/// The files the vectors refer to (made by `gen.py`'s `setup_tree`).
fn setup_fixtures() -> std::io::Result<()> {
    let w = Path::new("/tmp/nix-tv-work");
    std::fs::create_dir_all(w.join("tree/d"))?;
    std::fs::write(w.join("hello.txt"), b"hello\n")?;
    std::fs::write(w.join("tree/a"), b"hello\n")?;
    std::fs::write(w.join("tree/b.sh"), b"#!/bin/sh\necho hi\n")?;
    std::fs::write(w.join("tree/d/e"), b"")?;
    std::fs::write(w.join("scoped.nix"), b"y + 40")?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(w.join("tree/b.sh"), std::fs::Permissions::from_mode(0o755))?;
    }
    if std::fs::symlink_metadata(w.join("tree/c")).is_err() {
        std::os::unix::fs::symlink("a", w.join("tree/c"))?;
    }
    Ok(())
}

/// Runs an expression like `nix-instantiate --eval FLAGS -E EXPR`: (exit code, stdout, stderr).
pub fn run(expr: &str, flags: &[&str], cwd: &Path) -> (i32, String, String) {
    let strict = flags.contains(&"--strict");
    let json = flags.contains(&"--json");
    let xml = flags.contains(&"--xml");
    let mut ev = Evaluator::builder().build();
    let mut out = Vec::new();
    let r = (|| -> nix_eval::Result<()> {
        let v = ev.eval_expr(expr, cwd)?;
        let st = ev.state();
        let v = st.force(&v)?;
        if xml {
            let mut ctx = Context::new();
            out = nix_eval::print::to_xml(st, &v, strict, true, &mut ctx)?;
        } else if json {
            let mut ctx = Context::new();
            out = nix_eval::print::to_json(st, &v, None, &mut ctx)?;
        } else {
            let v: Value = if strict { st.force_deep(&v)? } else { v };
            out = nix_eval::print::print_value(st, &v);
            out.push(b'\n');
        }
        Ok(())
    })();
    match r {
        Ok(()) => (0, String::from_utf8_lossy(&out).into_owned(), String::new()),
        Err(e) => (1, String::new(), ev.render_error(&e)),
    }
}

#[test]
fn eval_json_vectors() -> Result<(), Box<dyn std::error::Error>> {
    setup_fixtures()?;
    let cwd = std::env::current_dir()?;
    let cwd_s = cwd.display().to_string();
    let v = testkit::vectors("eval");
    let cases = v["cases"].as_array().ok_or("no cases")?;
    let mut failures = Vec::new();
    let mut passed = 0;
    for c in cases {
        let expr = c["expr"].as_str().ok_or("expr")?;
        let flags: Vec<&str> = c["flags"]
            .as_array()
            .ok_or("flags")?
            .iter()
            .filter_map(|f| f.as_str())
            .collect();
        let rc = c["rc"].as_i64().ok_or("rc")? as i32;
        let stdout = c["stdout"]
            .as_str()
            .ok_or("stdout")?
            .replace("@CWD@", &cwd_s);
        let stderr = c["stderr"]
            .as_str()
            .ok_or("stderr")?
            .replace("@CWD@", &cwd_s);
        let (grc, gout, gerr) = run(expr, &flags, &cwd);
        let ok = grc == rc && gout == stdout && gerr.trim_end() == stderr;
        if ok {
            passed += 1;
        } else {
            failures.push(format!(
                "{expr:?} {flags:?}\n  expected {rc} {stdout:?} {stderr:?}\n  got      {grc} {gout:?} {:?}",
                gerr.trim_end()
            ));
        }
    }
    eprintln!("eval.json: {passed}/{} pass", cases.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}
