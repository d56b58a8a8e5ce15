//! Differential tests against the CppNix 2.8 binaries: store paths of many random files, texts
//! and references; keys made by `nix-store --generate-binary-cache-key`; binary caches written
//! and read by `nix copy`.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::{Hash, HashAlgo, Hasher};
use nix_store::narinfo::keys::{PublicKey, PublicKeys, SecretKey};
use nix_store::narinfo::NarInfo;
use nix_store::store_path::{StoreDir, StorePath};

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn name(&mut self, i: usize) -> String {
        const CHARS: &[u8] =
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=";
        let len = 1 + self.below(if i % 7 == 0 { 200 } else { 20 });
        // Names must be unique within a directory: suffix the index.
        let mut s: String = (0..len)
            .map(|_| CHARS[self.below(CHARS.len())] as char)
            .collect();
        s.push_str(&format!("-{i}"));
        s
    }
    /// Text that exercises Nix string escaping.
    fn text(&mut self) -> String {
        const CHARS: &[u8] = b"abc XYZ 019 \"\\$ {}\n\t'`~!@#%^&*()";
        let len = self.below(60);
        (0..len)
            .map(|_| CHARS[self.below(CHARS.len())] as char)
            .collect()
    }
}

/// Escapes text for a Nix double-quoted string literal.
fn nix_string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn run(bin: &Path, args: &[&str]) -> R<String> {
    let o = Command::new(bin).args(args).output()?;
    if !o.status.success() {
        return Err(format!(
            "{} {args:?} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&o.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(o.stdout)?)
}

fn nar_hash(path: &Path, algo: HashAlgo) -> R<Hash> {
    let mut h = Hasher::new(algo);
    nix_store::nar::dump_path(path, &mut h)?;
    Ok(h.finish())
}

fn flat_hash(path: &Path, algo: HashAlgo) -> R<Hash> {
    Ok(Hash::digest_bytes(algo, &std::fs::read(path)?))
}

fn base(path: &Path) -> R<&str> {
    Ok(path.file_name().and_then(|n| n.to_str()).ok_or("name")?)
}

/// Random files, executables, symlinks and directories under `dir`.
fn make_inputs(dir: &Path, rng: &mut Rng) -> R<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    let mut others = Vec::new();
    for i in 0..14 {
        let p = dir.join(rng.name(i));
        let len = [0, 1, 31, 32, 33, 1000, 70_000][rng.below(7)];
        std::fs::write(&p, rng.bytes(len))?;
        if i % 3 == 0 {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
        }
        files.push(p);
    }
    for i in 0..4 {
        let d = dir.join(format!("dir{i}-{}", rng.name(100 + i)));
        std::fs::create_dir_all(d.join("sub"))?;
        for j in 0..(1 + rng.below(4)) {
            let len = rng.below(300);
            std::fs::write(d.join(rng.name(200 + j)), rng.bytes(len))?;
        }
        std::fs::write(d.join("sub/f"), rng.bytes(10))?;
        std::os::unix::fs::symlink("../whatever", d.join("sub/link"))?;
        others.push(d);
    }
    let link = dir.join("a-symlink");
    std::os::unix::fs::symlink("/nix/store/nowhere", &link)?;
    others.push(link);
    Ok((files, others))
}

#[test]
fn store_paths_of_random_inputs_match_cppnix() -> R {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let dir = StoreDir::default();
    let store = testkit::TempStore::new();
    let root = store.root().to_str().ok_or("utf-8")?;
    let work = testkit::tempdir();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (files, others) = make_inputs(work.path(), &mut rng)?;
    let all: Vec<&PathBuf> = files.iter().chain(&others).collect();
    let strs = |ps: &[&PathBuf]| -> R<Vec<String>> {
        ps.iter()
            .map(|p| Ok(p.to_str().ok_or("utf-8")?.to_string()))
            .collect()
    };
    let none = BTreeSet::new();
    let mut checked = 0;

    // nix-store --add: source paths.
    let mut args = vec!["--store", root, "--add"];
    let all_s = strs(&all)?;
    args.extend(all_s.iter().map(String::as_str));
    let theirs: Vec<String> = run(&nix_store, &args)?
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(theirs.len(), all.len());
    for (p, t) in all.iter().zip(&theirs) {
        let ours = dir.make_source_path(base(p)?, &nar_hash(p, HashAlgo::Sha256)?, &none, false)?;
        assert_eq!(&dir.display(&ours), t, "--add {}", p.display());
        checked += 1;
    }

    // nix-store --add-fixed [--recursive] ALGO: every algorithm, both methods.
    for algo in HashAlgo::ALL {
        for recursive in [false, true] {
            let inputs: Vec<&PathBuf> = if recursive {
                all.clone()
            } else {
                files.iter().collect()
            };
            let mut args = vec!["--store", root, "--add-fixed"];
            if recursive {
                args.push("--recursive");
            }
            args.push(algo.name());
            let in_s = strs(&inputs)?;
            args.extend(in_s.iter().map(String::as_str));
            let theirs: Vec<String> = run(&nix_store, &args)?
                .lines()
                .map(str::to_string)
                .collect();
            assert_eq!(theirs.len(), inputs.len());
            for (p, t) in inputs.iter().zip(&theirs) {
                let (method, h) = if recursive {
                    (FileIngestionMethod::Recursive, nar_hash(p, algo)?)
                } else {
                    (FileIngestionMethod::Flat, flat_hash(p, algo)?)
                };
                let ours = dir.make_fixed_output_path(base(p)?, method, &h, &none, false)?;
                assert_eq!(
                    &dir.display(&ours),
                    t,
                    "--add-fixed {recursive} {algo} {}",
                    p.display()
                );
                checked += 1;
            }
        }
    }

    // One nix-instantiate run: toFile texts (some referring to earlier ones and to a source
    // path through interpolation) and builtins.path with names.
    let mut exprs = Vec::new();
    let mut expected: Vec<StorePath> = Vec::new();
    let mut bindings = String::new();
    for i in 0..24 {
        let name = rng.name(i);
        let mut refs = BTreeSet::new();
        let mut expr = String::new();
        let mut content = String::new();
        let pieces = 1 + rng.below(4);
        for k in 0..pieces {
            let t = rng.text();
            if !expr.is_empty() {
                expr.push_str(" + ");
            }
            expr.push_str(&nix_string(&t));
            content.push_str(&t);
            if i > 0 && k + 1 < pieces && rng.below(2) == 0 {
                let j = rng.below(i);
                expr.push_str(&format!(" + t{j}"));
                content.push_str(&dir.display(&expected[j]));
                refs.insert(expected[j].clone());
            }
        }
        if i % 5 == 4 {
            // A file copied to the store by interpolation becomes a reference too.
            let f = &files[i % files.len()];
            // (`/. + "…"`: the random names are not all valid path literals.)
            expr.push_str(&format!(
                " + \"${{/. + {}}}\"",
                nix_string(f.to_str().ok_or("utf-8")?)
            ));
            let src =
                dir.make_source_path(base(f)?, &nar_hash(f, HashAlgo::Sha256)?, &none, false)?;
            content.push_str(&dir.display(&src));
            refs.insert(src);
        }
        let content_hash = Hash::digest_bytes(HashAlgo::Sha256, content.as_bytes());
        expected.push(dir.make_text_path(&name, &content_hash, &refs)?);
        bindings.push_str(&format!(
            "t{i} = builtins.toFile {} ({expr});\n",
            nix_string(&name)
        ));
        exprs.push(format!("t{i}"));
    }
    for (i, p) in all.iter().enumerate().take(8) {
        let name = rng.name(300 + i);
        let path = nix_string(p.to_str().ok_or("utf-8")?);
        exprs.push(format!(
            "(builtins.path {{ path = /. + {path}; name = {}; }})",
            nix_string(&name)
        ));
        expected.push(dir.make_source_path(
            &name,
            &nar_hash(p, HashAlgo::Sha256)?,
            &none,
            false,
        )?);
    }
    let expr = format!("let\n{bindings}in [ {} ]", exprs.join(" "));
    let out = run(
        &nix_instantiate,
        &[
            "--store",
            root,
            "--eval",
            "--read-write-mode",
            "--json",
            "--strict",
            "-E",
            &expr,
        ],
    )?;
    let theirs: Vec<String> = serde_json::from_str(&out)?;
    assert_eq!(theirs.len(), expected.len());
    for (t, e) in theirs.iter().zip(&expected) {
        assert_eq!(t, &dir.display(e), "in\n{expr}");
        checked += 1;
    }
    assert!(checked >= 180, "{checked}");
    Ok(())
}

#[test]
fn keys_from_cppnix_work_with_ours() -> R {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let work = testkit::tempdir();
    let (sk, pk) = (work.path().join("sk"), work.path().join("pk"));
    run(
        &nix_store,
        &[
            "--generate-binary-cache-key",
            "cppnix-key-1",
            sk.to_str().ok_or("utf-8")?,
            pk.to_str().ok_or("utf-8")?,
        ],
    )?;
    let sk_text = std::fs::read_to_string(&sk)?;
    let pk_text = std::fs::read_to_string(&pk)?;
    let secret: SecretKey = sk_text.parse()?;
    let public: PublicKey = pk_text.parse()?;
    assert_eq!(secret.to_public(), public);
    assert_eq!(secret.to_string(), sk_text);
    assert_eq!(public.to_string(), pk_text);
    let sig = secret.sign(b"1;/nix/store/x;sha256:y;1;");
    assert!(public.verify(b"1;/nix/store/x;sha256:y;1;", &sig));
    Ok(())
}

fn nix_cmd(nix: &Path, args: &[&str]) -> std::process::Output {
    Command::new(nix)
        .args([
            "--extra-experimental-features",
            "nix-command",
            "--option",
            "substituters",
            "",
        ])
        .args(args)
        .output()
        .expect("run nix")
}

/// Builds a `file://` cache with `nix copy` and a CppNix key; checks that our parser, writer,
/// fingerprint and signatures agree with it, then signs it with our own key and checks that
/// CppNix accepts exactly that signature.
#[test]
fn binary_cache_signatures_interoperate_with_nix_copy() -> R {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let Some(nix) = testkit::reference("nix") else {
        return Ok(());
    };
    let dir = StoreDir::default();
    let store = testkit::TempStore::new();
    let root = store.root().to_str().ok_or("utf-8")?;
    let work = testkit::tempdir();
    let w = work.path();
    let (sk, pk) = (w.join("sk"), w.join("pk"));
    run(
        &nix_store,
        &[
            "--generate-binary-cache-key",
            "cppnix-cache-1",
            sk.to_str().ok_or("utf-8")?,
            pk.to_str().ok_or("utf-8")?,
        ],
    )?;
    let cppnix_sk: SecretKey = std::fs::read_to_string(&sk)?.parse()?;
    let cppnix_pk: PublicKey = std::fs::read_to_string(&pk)?.parse()?;

    // Paths: two sources and a chain of texts with references.
    std::fs::write(w.join("f1"), "one\n")?;
    std::fs::create_dir(w.join("d2"))?;
    std::fs::write(w.join("d2/x"), "two")?;
    let mut paths: Vec<String> = run(
        &nix_store,
        &[
            "--store",
            root,
            "--add",
            w.join("f1").to_str().ok_or("u")?,
            w.join("d2").to_str().ok_or("u")?,
        ],
    )?
    .lines()
    .map(str::to_string)
    .collect();
    let expr = format!(
        "let a = builtins.toFile \"a\" \"A\"; b = builtins.toFile \"b\" \"${{a}} ${{{}}}\"; in [ a b (builtins.toFile \"c\" \"${{b}}${{a}}\") ]",
        w.join("f1").display()
    );
    let texts: Vec<String> = serde_json::from_str(&run(
        &nix_instantiate,
        &[
            "--store",
            root,
            "--eval",
            "--read-write-mode",
            "--json",
            "--strict",
            "-E",
            &expr,
        ],
    )?)?;
    paths.extend(texts);

    // `nix path-info --json`: we read it and print it back byte for byte.
    let mut args = vec!["path-info", "--json", "--store", root];
    args.extend(paths.iter().map(String::as_str));
    let o = nix_cmd(&nix, &args);
    assert!(
        o.status.success(),
        "nix path-info: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let json = String::from_utf8(o.stdout)?;
    let parsed = nix_store::path_info::parse_json(&dir, &json)?;
    let infos: Vec<_> = parsed.iter().filter_map(|(_, i)| i.clone()).collect();
    assert_eq!(infos.len(), paths.len());
    assert_eq!(nix_store::path_info::to_json(&dir, &infos), json.trim_end());
    for info in &infos {
        // Every one of these paths is content-addressed, with a CA that implies its path.
        assert!(info.is_content_addressed(&dir), "{:?}", info.path);
    }

    let cache = w.join("cache");
    let url = format!(
        "file://{}?secret-key={}&compression=none",
        cache.display(),
        sk.display()
    );
    let mut args = vec!["copy", "--store", root, "--to", url.as_str()];
    args.extend(paths.iter().map(String::as_str));
    let o = nix_cmd(&nix, &args);
    assert!(
        o.status.success(),
        "nix copy --to: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let trusted: PublicKeys = [cppnix_pk.clone()].into_iter().collect();
    let ours_sk = SecretKey::generate("nixrs-test-1");
    let mut seen = 0;
    for entry in std::fs::read_dir(&cache)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".narinfo") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())?;
        let mut info = NarInfo::parse(&text, &dir)?;
        assert_eq!(info.to_text(&dir), text, "{name} written back differently");
        assert_eq!(info.count_valid_signatures(&dir, &trusted)?, 1, "{name}");
        // Re-signing with the CppNix key gives the very same Sig line.
        let mut resigned = info.clone();
        resigned.info.signatures.clear();
        resigned.sign(&dir, &cppnix_sk)?;
        assert_eq!(resigned.to_text(&dir), text, "{name}");
        // Our key instead of CppNix's; drop CA so that CppNix must rely on the signature.
        info.info.signatures.clear();
        info.info.ca = None;
        info.sign(&dir, &ours_sk)?;
        std::fs::write(entry.path(), info.to_text(&dir))?;
        seen += 1;
    }
    assert_eq!(seen, paths.len());

    // CppNix trusts our signature...
    let from = format!("file://{}", cache.display());
    let ok_store = testkit::TempStore::new();
    let trusted_ours = ours_sk.to_public().to_string();
    let mut args = vec![
        "copy",
        "--store",
        ok_store.root().to_str().ok_or("u")?,
        "--from",
        from.as_str(),
    ];
    args.extend(["--option", "trusted-public-keys", trusted_ours.as_str()]);
    args.extend(paths.iter().map(String::as_str));
    let o = nix_cmd(&nix, &args);
    assert!(
        o.status.success(),
        "nix copy --from with our key: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The copies carry our signature (and no CA): path-info JSON still round-trips exactly.
    let mut args = vec![
        "path-info",
        "--json",
        "--store",
        ok_store.root().to_str().ok_or("u")?,
    ];
    args.extend(paths.iter().map(String::as_str));
    let o = nix_cmd(&nix, &args);
    let json = String::from_utf8(o.stdout)?;
    let parsed = nix_store::path_info::parse_json(&dir, &json)?;
    let infos: Vec<_> = parsed.iter().filter_map(|(_, i)| i.clone()).collect();
    assert_eq!(infos.len(), paths.len());
    assert_eq!(nix_store::path_info::to_json(&dir, &infos), json.trim_end());
    let ours_keys: PublicKeys = [ours_sk.to_public()].into_iter().collect();
    for info in &infos {
        assert_eq!(info.ca, None);
        assert_eq!(
            info.count_valid_signatures(&dir, &ours_keys)?,
            1,
            "{:?}",
            info.path
        );
    }
    // ...and without our key in trusted-public-keys it refuses the same cache.
    let bad_store = testkit::TempStore::new();
    let trusted_theirs = cppnix_pk.to_string();
    let mut args = vec![
        "copy",
        "--store",
        bad_store.root().to_str().ok_or("u")?,
        "--from",
        from.as_str(),
    ];
    args.extend(["--option", "trusted-public-keys", trusted_theirs.as_str()]);
    args.push(paths[0].as_str());
    let o = nix_cmd(&nix, &args);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("lacks a valid signature"));
    Ok(())
}
