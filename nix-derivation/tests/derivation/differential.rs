//! Differential tests against CppNix 2.8: many derivations are instantiated with
//! `nix-instantiate --store ROOT`, then every `.drv` file written under `ROOT/nix/store` is
//! parsed, printed back byte for byte, and its `.drv` path and output paths are recomputed and
//! compared with CppNix's. Our `show-derivation` JSON is compared byte for byte with
//! `nix show-derivation --store ROOT` over all of them.
//!
//! CppNix is launched four times in all (two store roots: plain, and one with the
//! experimental `ca-derivations` and `impure-derivations` features).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use nix_derivation::hash_modulo::{DrvHashCache, FsResolver};
use nix_derivation::outputs::{check_outputs, drv_name_from_path, expected_outputs};
use nix_derivation::store::hash::{Hash, HashAlgo};
use nix_derivation::store::store_path::{StoreDir, StorePath};
use nix_derivation::{json, Derivation, DerivationOutput};

use crate::common::TestResult;

/// A small deterministic generator (xorshift64*), so that failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A Nix string literal holding exactly `bytes`.
fn nix_str(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'$' => out.extend_from_slice(b"\\$"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            other => out.push(other),
        }
    }
    out.push(b'"');
    out
}

const ODD: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\n",
    b"\t",
    b"\r",
    b"$",
    b"${x}",
    "é".as_bytes(),
    "日本".as_bytes(),
    "😀".as_bytes(),
    b"\x01",
    b"\x1f",
    b"\x7f",
    b"\xff",
    b" ",
    b"'",
    b"(",
    b")",
    b",",
    b"[",
    b"]",
    b"a",
    b"Z",
    b"0",
    b"=",
    b"/",
    b"\\n",
    b"\\\"",
];

fn odd_string(rng: &mut Rng, max: usize) -> Vec<u8> {
    let n = rng.below(max + 1);
    let mut s = Vec::new();
    for _ in 0..n {
        let piece: &[u8] = ODD[rng.below(ODD.len())];
        s.extend_from_slice(piece);
    }
    s
}

/// The `gen.nix` of the plain store: a list of derivations.
fn plain_expression() -> Vec<u8> {
    let mut e: Vec<u8> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    e.extend_from_slice(
        b"let\n  mk = name: attrs: derivation ({ inherit name; system = \"x86_64-linux\"; builder = \"/bin/sh\"; } // attrs);\n",
    );

    // Fixed outputs: every algorithm, flat and recursive, every hash encoding.
    let mut n = 0;
    for algo in [
        HashAlgo::Md5,
        HashAlgo::Sha1,
        HashAlgo::Sha256,
        HashAlgo::Sha512,
    ] {
        for recursive in [false, true] {
            for enc in 0..4 {
                let h = Hash::digest_bytes(algo, format!("content {n}").as_bytes());
                let (hash, give_algo) = match enc {
                    0 => (h.to_base16(), true),
                    1 => (h.to_nix32(), true),
                    2 => (h.to_base64(), true),
                    _ => (h.to_sri(), false),
                };
                let mut attrs = format!("outputHash = \"{hash}\"; ");
                if give_algo {
                    let _ = write!(attrs, "outputHashAlgo = \"{}\"; ", algo.name());
                }
                if recursive {
                    attrs.push_str("outputHashMode = \"recursive\"; ");
                } else if n % 3 == 0 {
                    attrs.push_str("outputHashMode = \"flat\"; ");
                }
                e.extend_from_slice(
                    format!("  fod{n} = mk \"fod-{n}\" {{ {attrs}}};\n").as_bytes(),
                );
                items.push(format!("fod{n}"));
                n += 1;
            }
        }
    }
    // A dependent of each fixed output, and of a fixed output with its own inputs.
    e.extend_from_slice(b"  fodin = mk \"fod-with-inputs\" { src = builtins.toFile \"s\" \"x\"; dep = fod0; outputHash = \"sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\"; };\n");
    items.push("fodin".into());
    let deps: Vec<String> = (0..n).map(|i| format!("fod{i}")).collect();
    e.extend_from_slice(
        format!(
            "  usesfods = mk \"uses-fods\" {{ deps = [ {} fodin ]; }};\n",
            deps.join(" ")
        )
        .as_bytes(),
    );
    items.push("usesfods".into());

    // A chain of 25 and 20 levels of diamonds.
    e.extend_from_slice(b"  chain = builtins.foldl' (prev: i: mk \"chain-${toString i}\" { inherit prev; outputs = [ \"out\" \"dev\" ]; }) (mk \"chain-base\" {}) (builtins.genList (x: x) 25);\n");
    items.push("chain".into());
    e.extend_from_slice(b"  diamond = builtins.foldl' (p: i: { l = mk \"dl-${toString i}\" { a = p.l; b = p.r.dev; }; r = mk \"dr-${toString i}\" { a = p.l.out; b = p.r; outputs = [ \"dev\" \"out\" ]; }; }) { l = mk \"dl\" {}; r = mk \"dr\" { outputs = [\"out\" \"dev\"]; }; } (builtins.genList (x: x) 20);\n");
    e.extend_from_slice(b"  top = mk \"diamond-top\" { inherit (diamond) l r; };\n");
    items.push("top".into());

    // Structured attributes, ignored nulls, args.
    e.extend_from_slice(b"  sa = mk \"structured\" { __structuredAttrs = true; outputs = [ \"out\" \"lib\" ]; list = [ 1 2.5 \"s\" null true [ ] { } ]; nested = { a.b = \"q\\\"\\n\"; }; dep = chain; src = builtins.toFile \"sa-src\" \"hi\"; };\n");
    items.push("sa".into());
    e.extend_from_slice(b"  sa2 = mk \"structured-ia\" { __structuredAttrs = true; __ignoreNulls = true; x = null; y = 3; };\n");
    items.push("sa2".into());
    e.extend_from_slice(b"  nulls = mk \"ignore-nulls\" { __ignoreNulls = true; a = null; b = \"\"; c = [ null ]; d = false; };\n");
    items.push("nulls".into());
    e.extend_from_slice(b"  withargs = mk \"with-args\" { args = [ \"-c\" \"echo \\\"$out\\\"\" \"\" \"a\\tb\" ]; builder = builtins.toFile \"builder.sh\" \"echo\"; };\n");
    items.push("withargs".into());

    // Random derivations with odd strings, random outputs and random inputs.
    let mut rng = Rng::new(0x5eed_d1ff);
    let output_sets: &[&[&str]] = &[
        &["out"],
        &["out", "dev"],
        &["lib", "out", "doc"],
        &["bin"],
        &["dev", "out", "man", "info"],
    ];
    let systems = [
        "x86_64-linux",
        "aarch64-linux",
        "i686-linux",
        "x86_64-darwin",
    ];
    let mut made: Vec<(String, Vec<String>)> =
        vec![("chain".into(), vec!["out".into(), "dev".into()])];
    for i in 0..150 {
        let mut body: Vec<u8> = Vec::new();
        let outs = *rng.pick(output_sets);
        let quoted: Vec<String> = outs.iter().map(|o| format!("\"{o}\"")).collect();
        body.extend_from_slice(
            format!(
                "outputs = [ {} ]; system = \"{}\"; ",
                quoted.join(" "),
                rng.pick(&systems)
            )
            .as_bytes(),
        );
        let nargs = rng.below(4);
        if nargs > 0 {
            body.extend_from_slice(b"args = [ ");
            for _ in 0..nargs {
                body.extend(nix_str(&odd_string(&mut rng, 6)));
                body.push(b' ');
            }
            body.extend_from_slice(b"]; ");
        }
        for k in 0..rng.below(6) {
            body.extend_from_slice(format!("k{k} = ").as_bytes());
            match rng.below(8) {
                0 => body.extend_from_slice(format!("{}", rng.below(1000) as i64 - 500).as_bytes()),
                1 => body.extend_from_slice(if rng.below(2) == 0 { b"true" } else { b"false" }),
                2 => body.extend_from_slice(b"[ 1 \"two\" 3.25 null ]"),
                3 => {
                    body.extend_from_slice(b"builtins.toFile \"src-");
                    body.extend_from_slice(format!("{i}-{k}\" ").as_bytes());
                    body.extend(nix_str(&odd_string(&mut rng, 4)));
                }
                4 if !made.is_empty() => {
                    let (dep, outs) = rng.pick(&made).clone();
                    let o = rng.pick(&outs).clone();
                    body.extend_from_slice(format!("{dep}.{o}").as_bytes());
                }
                _ => body.extend(nix_str(&odd_string(&mut rng, 10))),
            }
            body.extend_from_slice(b"; ");
        }
        // Odd attribute names too.
        if rng.below(4) == 0 {
            let mut key = b"k-".to_vec();
            key.extend(odd_string(&mut rng, 3));
            body.extend(nix_str(&key));
            body.extend_from_slice(b" = \"v\"; ");
        }
        e.extend_from_slice(format!("  r{i} = mk \"rnd-{i}\" {{ ").as_bytes());
        e.extend(body);
        e.extend_from_slice(b"};\n");
        items.push(format!("r{i}"));
        made.push((
            format!("r{i}"),
            outs.iter().map(|s| s.to_string()).collect(),
        ));
    }
    e.extend_from_slice(b"in [ ");
    e.extend_from_slice(items.join(" ").as_bytes());
    e.extend_from_slice(b" ]\n");
    e
}

/// The `gen.nix` of the experimental store: floating, impure and deferred derivations.
fn experimental_expression() -> Vec<u8> {
    br#"let
  mk = name: attrs: derivation ({ inherit name; system = "x86_64-linux"; builder = "/bin/sh"; } // attrs);
  fl = mk "floating" { __contentAddressed = true; outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputs = [ "out" "lib" ]; };
  flflat = mk "floating-flat" { __contentAddressed = true; outputHashAlgo = "sha512"; };
  imp = mk "impure" { __impure = true; outputHashMode = "flat"; outputHashAlgo = "sha1"; };
  imp2 = mk "impure-r" { __impure = true; outputHashMode = "recursive"; outputHashAlgo = "md5"; outputs = [ "out" "dev" ]; };
  dep = mk "on-floating" { x = fl.lib; y = flflat; outputs = [ "out" "dev" ]; };
  depdep = mk "on-deferred" { x = dep.dev; };
  depimp = mk "on-impure" { x = imp; y = imp2.dev; };
  ia = mk "plain" { };
  mixed = mk "plain-and-deferred" { x = ia; y = depdep; };
  fod = mk "fod" { outputHash = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="; };
  caonfod = mk "floating-on-fod" { __contentAddressed = true; outputHashMode = "recursive"; outputHashAlgo = "sha256"; x = fod; };
in [ fl flflat imp imp2 dep depdep depimp ia mixed caonfod ]
"#
    .to_vec()
}

/// Instantiates `expr` into the store root `root` and returns the printed `.drv` paths.
fn instantiate(bin: &Path, root: &Path, expr: &[u8], features: &[&str]) -> TestResult<Vec<String>> {
    let file = root.join("gen.nix");
    std::fs::create_dir_all(root)?;
    std::fs::write(&file, expr)?;
    let mut cmd = Command::new(bin);
    if !features.is_empty() {
        cmd.arg("--extra-experimental-features")
            .arg(features.join(" "));
    }
    let out = cmd.arg("--store").arg(root).arg(&file).output()?;
    if !out.status.success() {
        return Err(format!(
            "nix-instantiate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .map(str::to_string)
        .collect())
}

/// Every `.drv` file in the store root, by path.
fn drv_files(root: &Path) -> TestResult<BTreeMap<StorePath, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root.join("nix/store"))? {
        let entry = entry?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| "non-UTF-8 file name")?;
        if name.ends_with(".drv") {
            out.insert(
                StorePath::from_base_name(&name)?,
                std::fs::read(entry.path())?,
            );
        }
    }
    Ok(out)
}

/// Checks every `.drv` in `root`; returns how many there were.
fn check_store(root: &Path, printed: &[String], features: &[&str]) -> TestResult<usize> {
    let store_dir = StoreDir::default();
    let files = drv_files(root)?;
    let mut resolver = FsResolver::new(store_dir.clone(), root.join("nix/store"));
    let mut cache = DrvHashCache::new();
    let mut drvs = BTreeMap::new();
    for (path, bytes) in &files {
        let shown = store_dir.display(path);
        let drv = Derivation::parse(bytes, &store_dir).map_err(|e| format!("{shown}: {e}"))?;
        // Printing gives back the same bytes.
        assert_eq!(
            String::from_utf8_lossy(&drv.to_aterm(&store_dir)),
            String::from_utf8_lossy(bytes),
            "{shown}"
        );
        // The .drv path is the text path of those bytes with those references.
        let name = drv_name_from_path(path).ok_or("not a .drv")?;
        assert_eq!(&drv.drv_path(&store_dir, name)?, path, "{shown}");
        // The output paths are those hashDerivationModulo gives, and what derivationStrict
        // would fill in.
        check_outputs(&drv, name, &store_dir, &mut resolver, &mut cache)
            .map_err(|e| format!("{shown}: {e}"))?;
        let expected = expected_outputs(&drv, name, &store_dir, &mut resolver, &mut cache)?;
        for (o, p) in &expected {
            assert_eq!(p.as_ref(), drv.outputs[o].path(), "{shown} output {o}");
        }
        // JSON reads back.
        let one = json::to_json(&drv, &store_dir);
        assert_eq!(json::from_json(&one, &store_dir)?, drv, "{shown}");
        drvs.insert(path.clone(), drv);
    }
    for p in printed {
        // `nix-instantiate` prints `DRV!OUTPUT` when the first output is not `out`.
        let p = store_dir.parse_path(p.split('!').next().unwrap_or(p))?;
        assert!(drvs.contains_key(&p), "printed {p} but no such file");
    }

    // `nix show-derivation` over all of them, byte for byte.
    let nix = testkit::reference("nix").ok_or("nix binary missing")?;
    let mut cmd = Command::new(nix);
    let mut feats = vec!["nix-command"];
    feats.extend_from_slice(features);
    cmd.arg("--extra-experimental-features")
        .arg(feats.join(" "))
        .arg("show-derivation")
        .arg("--store")
        .arg(root);
    for p in drvs.keys() {
        cmd.arg(store_dir.display(p));
    }
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(format!(
            "nix show-derivation failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let ours = json::show_derivation(&store_dir, &drvs);
    if ours != out.stdout {
        let at = ours
            .iter()
            .zip(&out.stdout)
            .take_while(|(a, b)| a == b)
            .count();
        let lo = at.saturating_sub(200);
        panic!(
            "show-derivation differs at byte {at}:\nours:   {}\nCppNix: {}",
            String::from_utf8_lossy(&ours[lo..(at + 200).min(ours.len())]),
            String::from_utf8_lossy(&out.stdout[lo..(at + 200).min(out.stdout.len())])
        );
    }
    assert_eq!(json::parse_show_derivation(&out.stdout, &store_dir)?, drvs);
    Ok(drvs.len())
}

#[test]
fn many_derivations_match_cppnix() -> TestResult {
    let Some(bin) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let store = testkit::TempStore::new();
    let printed = instantiate(&bin, store.root(), &plain_expression(), &[])?;
    assert!(printed.len() >= 190, "{} printed", printed.len());
    let n = check_store(store.root(), &printed, &[])?;
    assert!(n > 250, "only {n} derivations");
    // The odd bytes did reach the .drv files (env values, keys and args).
    let store_dir = StoreDir::default();
    let mut strings: Vec<Vec<u8>> = Vec::new();
    for bytes in drv_files(store.root())?.values() {
        let drv = Derivation::parse(bytes, &store_dir)?;
        strings.extend(drv.env.into_iter().flat_map(|(k, v)| [k, v]));
        strings.extend(drv.args);
    }
    for needle in [
        &b"\x01"[..],
        b"\xff",
        b"\x7f",
        b"\n",
        b"\r",
        b"\t",
        b"\"",
        b"\\",
        b"$",
        "é".as_bytes(),
        "😀".as_bytes(),
    ] {
        assert!(
            strings
                .iter()
                .any(|s| s.windows(needle.len()).any(|w| w == needle)),
            "no string contains {needle:?}"
        );
    }
    Ok(())
}

#[test]
fn experimental_derivations_match_cppnix() -> TestResult {
    let Some(bin) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let features = ["ca-derivations", "impure-derivations"];
    let store = testkit::TempStore::new();
    let printed = instantiate(&bin, store.root(), &experimental_expression(), &features)?;
    let n = check_store(store.root(), &printed, &features)?;
    assert!(n >= 11, "only {n} derivations");
    // The forms are all there.
    let store_dir = StoreDir::default();
    let mut seen = [false; 5];
    for bytes in drv_files(store.root())?.values() {
        for o in Derivation::parse(bytes, &store_dir)?.outputs.values() {
            seen[match o {
                DerivationOutput::InputAddressed(_) => 0,
                DerivationOutput::Fixed { .. } => 1,
                DerivationOutput::Floating { .. } => 2,
                DerivationOutput::Deferred => 3,
                DerivationOutput::Impure { .. } => 4,
            }] = true;
        }
    }
    assert_eq!(seen, [true; 5]);
    Ok(())
}
