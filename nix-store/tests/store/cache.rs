//! Binary caches: round trips through `file://` and a loopback HTTP server, every failure that
//! must register nothing, and interoperability with CppNix 2.8's `nix copy`.

use std::collections::BTreeSet;
use std::path::Path;

use nix_store::cache::{
    copy_paths, copy_to_cache, open_cache, BinaryCache, CacheError, Compression, CopyOptions,
    Substituters,
};
use nix_store::hash::{Hash, HashAlgo};
use nix_store::narinfo::{PublicKeys, SecretKey};
use nix_store::store::local::LocalStore;
use nix_store::store::{Store, ValidPathInfo};
use nix_store::store_path::StorePath;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ALL: [Compression; 4] = [
    Compression::Xz,
    Compression::Zstd,
    Compression::Bzip2,
    Compression::None,
];

/// Adds an input-addressed (not content-addressed) path holding the NAR of `src`.
fn add_input_addressed(
    store: &LocalStore,
    name: &str,
    src: &Path,
    references: &[&StorePath],
) -> Result<StorePath, Box<dyn std::error::Error>> {
    let mut nar = Vec::new();
    nix_store::nar::dump_path(src, &mut nar)?;
    let sd = store.store_dir();
    let fake = Hash::digest_bytes(HashAlgo::Sha256, format!("{name}{}", nar.len()).as_bytes());
    let path = sd.make_text_path(name, &fake, &BTreeSet::new())?;
    let info = ValidPathInfo {
        path: path.clone(),
        deriver: None,
        nar_hash: Hash::digest_bytes(HashAlgo::Sha256, &nar),
        references: references.iter().map(|r| (*r).clone()).collect(),
        registration_time: 1,
        nar_size: nar.len() as u64,
        ultimate: true,
        sigs: Vec::new(),
        ca: None,
    };
    store.add_nar(&info, &mut &nar[..])?;
    Ok(path)
}

/// A source store with a closure of three input-addressed paths: `top` → `lib` → `data`
/// (a directory with an executable, a symlink and a 300 KiB file). Returns the store and
/// `[top, lib, data]`.
fn source_store(
    root: &testkit::TempStore,
) -> Result<(LocalStore, Vec<StorePath>), Box<dyn std::error::Error>> {
    let store = LocalStore::open(root.root())?;
    let src = testkit::tempdir();
    let d = src.path().join("data");
    std::fs::create_dir(&d)?;
    std::fs::write(d.join("a"), "hello\n")?;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(d.join("big"), big)?;
    std::fs::write(d.join("run"), "#!/bin/sh\n")?;
    std::fs::set_permissions(
        d.join("run"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    std::os::unix::fs::symlink("a", d.join("link"))?;
    let data = add_input_addressed(&store, "data", &d, &[])?;
    let l = src.path().join("lib");
    std::fs::write(&l, format!("uses {}\n", store.store_dir().display(&data)))?;
    let lib = add_input_addressed(&store, "lib", &l, &[&data])?;
    let t = src.path().join("top");
    std::fs::write(&t, format!("uses {}\n", store.store_dir().display(&lib)))?;
    let top = add_input_addressed(&store, "top", &t, &[&lib])?;
    Ok((store, vec![top, lib, data]))
}

fn file_cache(dir: &Path, store: &LocalStore) -> Result<Box<dyn BinaryCache>, CacheError> {
    open_cache(&format!("file://{}", dir.display()), store.store_dir())
}

fn nar_of(store: &LocalStore, p: &StorePath) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut v = Vec::new();
    store.nar_from_path(p, &mut v)?;
    Ok(v)
}

/// The one NAR file of `path` in a `file://` cache.
fn nar_file_of(
    cache_dir: &Path,
    path: &StorePath,
) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(cache_dir.join(format!("{}.narinfo", path.hash_part())))?;
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix("URL: "))
        .ok_or("no URL")?;
    Ok(cache_dir.join(url))
}

#[test]
fn round_trip_through_a_file_cache_with_each_compression() -> TestResult {
    let src_root = testkit::TempStore::new();
    let (src, paths) = source_store(&src_root)?;
    let key = SecretKey::generate("test-cache-1");
    let trusted: PublicKeys = [key.to_public()].into_iter().collect();
    for compression in ALL {
        let dir = testkit::tempdir();
        let cache = file_cache(dir.path(), &src)?;
        let opts = CopyOptions {
            secret_key: Some(&key),
            compression,
        };
        let top = BTreeSet::from([paths[0].clone()]);
        let copied = copy_to_cache(&src, cache.as_ref(), &top, &opts)?;
        assert_eq!(
            copied,
            vec![paths[2].clone(), paths[1].clone(), paths[0].clone()]
        );
        // a second copy has nothing to do
        assert!(copy_to_cache(&src, cache.as_ref(), &top, &opts)?.is_empty());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("nix-cache-info"))?,
            "StoreDir: /nix/store\n"
        );
        for p in &paths {
            let text =
                std::fs::read_to_string(dir.path().join(format!("{}.narinfo", p.hash_part())))?;
            assert!(
                text.contains(&format!("Compression: {}\n", compression.name())),
                "{text}"
            );
            let nar = nar_file_of(dir.path(), p)?;
            assert!(nar.is_file());
            let name = nar.file_name().and_then(|n| n.to_str()).ok_or("name")?;
            assert!(
                name.ends_with(&format!(".nar{}", compression.extension())),
                "{name}"
            );
            // the file name is the nix32 of the file's sha256
            let h = Hash::digest_bytes(HashAlgo::Sha256, &std::fs::read(&nar)?);
            assert!(name.starts_with(&h.to_nix32()));
        }
        let nar_files = std::fs::read_dir(dir.path().join("nar"))?.count();
        assert_eq!(nar_files, 3, "no staging file is left");

        let dst_root = testkit::TempStore::new();
        let dst = LocalStore::open(dst_root.root())?;
        let subs = Substituters::new(vec![file_cache(dir.path(), &dst)?], trusted.clone());
        let added = subs.substitute(&dst, &top)?;
        assert_eq!(
            added,
            vec![paths[2].clone(), paths[1].clone(), paths[0].clone()]
        );
        for p in &paths {
            assert_eq!(nar_of(&dst, p)?, nar_of(&src, p)?);
            let info = dst.query_path_info(p)?.ok_or("not valid")?;
            assert_eq!(info.sigs.len(), 1, "the signature is kept");
            assert!(!info.ultimate);
        }
        assert!(dst.verify(true, false)?.is_clean());
        assert!(
            subs.substitute(&dst, &top)?.is_empty(),
            "nothing left to do"
        );
    }
    Ok(())
}

/// Substitutes `top` from `dir` into a fresh store and returns the error and the store's
/// valid paths afterwards.
fn substitute_failure(
    dir: &Path,
    top: &StorePath,
    trusted: PublicKeys,
) -> Result<(CacheError, BTreeSet<StorePath>), Box<dyn std::error::Error>> {
    let root = testkit::TempStore::new();
    let dst = LocalStore::open(root.root())?;
    let subs = Substituters::new(vec![file_cache(dir, &dst)?], trusted).jobs(1);
    let err = match subs.substitute(&dst, &BTreeSet::from([top.clone()])) {
        Ok(v) => return Err(format!("substitution succeeded: {v:?}").into()),
        Err(e) => e,
    };
    assert!(dst.verify(true, false)?.is_clean());
    Ok((err, dst.query_all_valid_paths()?))
}

#[test]
fn failures_are_typed_and_register_nothing_invalid() -> TestResult {
    let src_root = testkit::TempStore::new();
    let (src, paths) = source_store(&src_root)?;
    let key = SecretKey::generate("test-cache-1");
    let trusted: PublicKeys = [key.to_public()].into_iter().collect();
    let top = BTreeSet::from([paths[0].clone()]);
    let cache_with =
        |compression, key: Option<&SecretKey>| -> Result<_, Box<dyn std::error::Error>> {
            let dir = testkit::tempdir();
            let cache = file_cache(dir.path(), &src)?;
            let opts = CopyOptions {
                secret_key: key,
                compression,
            };
            copy_to_cache(&src, cache.as_ref(), &top, &opts)?;
            Ok(dir)
        };

    // unsigned, and signed by a key nobody trusts
    for k in [None, Some(&SecretKey::generate("other-1"))] {
        let dir = cache_with(Compression::Xz, k)?;
        let (err, valid) = substitute_failure(dir.path(), &paths[0], trusted.clone())?;
        assert!(matches!(err, CacheError::Untrusted { .. }), "{err}");
        assert!(valid.is_empty());
    }

    // a signature that does not verify (the narinfo was edited after signing)
    let dir = cache_with(Compression::Xz, Some(&key))?;
    let ni = dir.path().join(format!("{}.narinfo", paths[2].hash_part()));
    let text = std::fs::read_to_string(&ni)?;
    let tampered = text.replace("Sig: test-cache-1:", "Sig: test-cache-1:A");
    std::fs::write(&ni, tampered)?;
    let (err, valid) = substitute_failure(dir.path(), &paths[0], trusted.clone())?;
    assert!(matches!(err, CacheError::Untrusted { .. }), "{err}");
    assert!(valid.is_empty());

    // a corrupted NAR (one byte changed) of the top path: its references are added, it is not
    let dir = cache_with(Compression::None, Some(&key))?;
    let nar = nar_file_of(dir.path(), &paths[0])?;
    let mut bytes = std::fs::read(&nar)?;
    let k = bytes.len() - 20;
    bytes[k] ^= 0x20;
    std::fs::write(&nar, &bytes)?;
    let (err, valid) = substitute_failure(dir.path(), &paths[0], trusted.clone())?;
    assert!(matches!(err, CacheError::NarHashMismatch { .. }), "{err}");
    assert!(!valid.contains(&paths[0]));

    // a truncated NAR, uncompressed and xz-compressed
    for compression in [Compression::None, Compression::Xz] {
        let dir = cache_with(compression, Some(&key))?;
        let nar = nar_file_of(dir.path(), &paths[2])?;
        let bytes = std::fs::read(&nar)?;
        std::fs::write(&nar, &bytes[..bytes.len() / 2])?;
        let (err, valid) = substitute_failure(dir.path(), &paths[0], trusted.clone())?;
        match (compression, &err) {
            (Compression::None, CacheError::NarSizeMismatch { expected, got, .. }) => {
                assert!(got < expected)
            }
            (Compression::Xz, CacheError::Read { .. }) => {}
            _ => panic!("unexpected error for {compression:?}: {err}"),
        }
        assert!(valid.is_empty(), "{valid:?}");
    }

    // a missing NAR file
    let dir = cache_with(Compression::Zstd, Some(&key))?;
    std::fs::remove_file(nar_file_of(dir.path(), &paths[2])?)?;
    let (err, valid) = substitute_failure(dir.path(), &paths[0], trusted.clone())?;
    assert!(matches!(err, CacheError::Read { .. }), "{err}");
    assert!(valid.is_empty());

    // a missing reference
    let dir = cache_with(Compression::Zstd, Some(&key))?;
    std::fs::remove_file(dir.path().join(format!("{}.narinfo", paths[1].hash_part())))?;
    let (err, valid) = substitute_failure(dir.path(), &paths[0], trusted.clone())?;
    assert!(matches!(err, CacheError::NotSubstitutable { .. }), "{err}");
    assert!(valid.is_empty());
    Ok(())
}

#[test]
fn unsigned_paths_need_no_check_sigs_or_a_content_address() -> TestResult {
    let src_root = testkit::TempStore::new();
    let (src, paths) = source_store(&src_root)?;
    // content-addressed paths: a text file referring to a source directory
    let srcdir = testkit::tempdir();
    std::fs::write(srcdir.path().join("f"), "x")?;
    let source = src.add_path("src", srcdir.path(), Default::default(), &BTreeSet::new())?;
    let text = src.add_text(
        "t.txt",
        src.store_dir().display(&source).as_bytes(),
        &BTreeSet::from([source.clone()]),
    )?;
    let dir = testkit::tempdir();
    let cache = file_cache(dir.path(), &src)?;
    let all = BTreeSet::from([paths[0].clone(), text.clone()]);
    copy_to_cache(&src, cache.as_ref(), &all, &CopyOptions::default())?;

    let root = testkit::TempStore::new();
    let dst = LocalStore::open(root.root())?;
    let subs = Substituters::new(vec![file_cache(dir.path(), &dst)?], PublicKeys::new());
    // content-addressed: trusted without a signature
    assert!(subs.substitute_path(&dst, &text)?);
    assert!(dst.is_valid_path(&source)?);
    // input-addressed and unsigned: refused, unless signatures are not checked
    assert!(matches!(
        subs.substitute_path(&dst, &paths[0]),
        Err(CacheError::Untrusted { .. })
    ));
    let subs = subs.check_sigs(false);
    assert!(subs.substitute_path(&dst, &paths[0])?);
    // a path no cache has
    let absent = dst
        .store_dir()
        .parse_path("/nix/store/00000000000000000000000000000000-absent")?;
    assert!(!subs.substitute_path(&dst, &absent)?);
    assert!(dst.verify(true, false)?.is_clean());
    Ok(())
}

#[test]
fn substitutes_a_closure_over_http_and_copies_to_it() -> TestResult {
    let src_root = testkit::TempStore::new();
    let (src, paths) = source_store(&src_root)?;
    let key = SecretKey::generate("test-cache-1");
    let trusted: PublicKeys = [key.to_public()].into_iter().collect();
    let dir = testkit::tempdir();
    let server = testkit::http::FileServer::start(dir.path());
    let http = open_cache(&server.url(), src.store_dir())?;
    // write through HTTP PUT
    let top = BTreeSet::from([paths[0].clone()]);
    let opts = CopyOptions {
        secret_key: Some(&key),
        compression: Compression::Zstd,
    };
    assert_eq!(copy_to_cache(&src, http.as_ref(), &top, &opts)?.len(), 3);
    assert!(dir.path().join("nix-cache-info").is_file());

    let root = testkit::TempStore::new();
    let dst = LocalStore::open(root.root())?;
    let before = server.requests();
    let subs =
        Substituters::new(vec![open_cache(&server.url(), dst.store_dir())?], trusted).jobs(4);
    let added = subs.substitute(&dst, &top)?;
    assert_eq!(added.len(), 3);
    assert!(
        server.requests() >= before + 7,
        "nix-cache-info, 3 narinfos, 3 NARs"
    );
    for p in &paths {
        assert_eq!(nar_of(&dst, p)?, nar_of(&src, p)?);
    }
    assert!(dst.verify(true, false)?.is_clean());
    // a path the server does not have: 404 means "not there"
    let absent = dst
        .store_dir()
        .parse_path("/nix/store/00000000000000000000000000000000-absent")?;
    assert!(!subs.substitute_path(&dst, &absent)?);
    Ok(())
}

#[test]
fn copies_between_local_stores() -> TestResult {
    let src_root = testkit::TempStore::new();
    let (src, paths) = source_store(&src_root)?;
    let root = testkit::TempStore::new();
    let dst = LocalStore::open(root.root())?;
    let top = BTreeSet::from([paths[0].clone()]);
    assert!(matches!(
        copy_paths(&src, &dst, &top, Some(&PublicKeys::new())),
        Err(CacheError::Untrusted { .. })
    ));
    let copied = copy_paths(&src, &dst, &top, None)?;
    assert_eq!(copied.len(), 3);
    for p in &paths {
        assert_eq!(nar_of(&dst, p)?, nar_of(&src, p)?);
    }
    assert!(copy_paths(&src, &dst, &top, None)?.is_empty());
    assert!(dst.verify(true, false)?.is_clean());
    Ok(())
}

fn run(bin: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let out = std::process::Command::new(bin).args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "{} {args:?} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

#[test]
fn we_read_a_cache_written_by_cppnix() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix) = testkit::reference("nix") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let r1 = testkit::TempStore::new();
    let r1s = r1.root().to_string_lossy().into_owned();
    let src = testkit::tempdir();
    let d = src.path().join("tree");
    std::fs::create_dir(&d)?;
    std::fs::write(d.join("file"), "contents\n")?;
    std::fs::write(d.join("exe"), "#!/bin/sh\n")?;
    std::fs::set_permissions(
        d.join("exe"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    std::os::unix::fs::symlink("file", d.join("link"))?;
    let added = run(
        &nix_store,
        &["--store", &r1s, "--add", &d.to_string_lossy()],
    )?;
    let added = added.trim().to_string();
    // two text paths (content-addressed, as `builtins.toFile` makes them): `u` → `t` → tree
    let expr = format!(
        "let t = builtins.toFile \"t.txt\" \"uses ${{builtins.storePath {added}}}\"; \
         in builtins.toFile \"u.txt\" \"uses ${{t}}\""
    );
    let top = run(
        &nix_instantiate,
        &["--store", &r1s, "--eval", "--read-write-mode", "-E", &expr],
    )?;
    let drv = top.trim().trim_matches('"').to_string();
    let sk_dir = testkit::tempdir();
    let (sk, pk) = (sk_dir.path().join("sk"), sk_dir.path().join("pk"));
    run(
        &nix_store,
        &[
            "--generate-binary-cache-key",
            "cppnix-1",
            &sk.to_string_lossy(),
            &pk.to_string_lossy(),
        ],
    )?;
    for (signed, compression) in [
        (false, "xz"),
        (true, "zstd"),
        (true, "bzip2"),
        (true, "none"),
    ] {
        let cache = testkit::tempdir();
        let mut url = format!(
            "file://{}?compression={compression}",
            cache.path().display()
        );
        if signed {
            url.push_str(&format!("&secret-key={}", sk.display()));
        }
        run(
            &nix,
            &[
                "--extra-experimental-features",
                "nix-command",
                "copy",
                "--option",
                "substituters",
                "",
                "--to",
                &url,
                "--store",
                &r1s,
                &drv,
            ],
        )?;
        let r2 = testkit::TempStore::new();
        let dst = LocalStore::open(r2.root())?;
        let keys = if signed {
            PublicKeys::parse_list(&std::fs::read_to_string(&pk)?)?
        } else {
            // unsigned: accepted because every path is content-addressed
            PublicKeys::new()
        };
        let subs = Substituters::new(
            vec![open_cache(
                &format!("file://{}", cache.path().display()),
                dst.store_dir(),
            )?],
            keys,
        );
        let drv_path = dst.store_dir().parse_path(&drv)?;
        let added = subs.substitute(&dst, &BTreeSet::from([drv_path]))?;
        assert_eq!(
            added.len(),
            3,
            "two toFile texts and the tree ({compression})"
        );
        let r2s = r2.root().to_string_lossy().into_owned();
        run(
            &nix_store,
            &["--store", &r2s, "--verify", "--check-contents"],
        )?;
        let theirs = run(&nix_store, &["--store", &r1s, "-qR", &drv])?;
        let ours = run(&nix_store, &["--store", &r2s, "-qR", &drv])?;
        assert_eq!(ours, theirs);
        for p in theirs.lines() {
            let a = run(&nix_store, &["--store", &r1s, "-q", "--hash", p])?;
            let b = run(&nix_store, &["--store", &r2s, "-q", "--hash", p])?;
            assert_eq!(a, b, "{p}");
        }
    }
    Ok(())
}

#[test]
fn cppnix_reads_a_cache_written_by_us() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix) = testkit::reference("nix") else {
        return Ok(());
    };
    let src_root = testkit::TempStore::new();
    let (src, paths) = source_store(&src_root)?;
    let key = SecretKey::generate("nixrs-test-1");
    for compression in ALL {
        let dir = testkit::tempdir();
        let cache = file_cache(dir.path(), &src)?;
        let opts = CopyOptions {
            secret_key: Some(&key),
            compression,
        };
        copy_to_cache(
            &src,
            cache.as_ref(),
            &BTreeSet::from([paths[0].clone()]),
            &opts,
        )?;
        let r3 = testkit::TempStore::new();
        let r3s = r3.root().to_string_lossy().into_owned();
        let top = src.store_dir().display(&paths[0]);
        let from = format!("file://{}", dir.path().display());
        let base = [
            "--extra-experimental-features",
            "nix-command",
            "copy",
            "--option",
            "substituters",
            "",
            "--from",
            &from,
            "--to",
            &r3s,
            "--store",
            &r3s,
        ];
        // refused without our key
        let mut refused = base.to_vec();
        refused.push(&top);
        assert!(
            run(&nix, &refused).is_err(),
            "CppNix must refuse unsigned paths"
        );
        let pk = key.to_public().to_string();
        let mut args = base.to_vec();
        args.extend(["--option", "trusted-public-keys", &pk, &top]);
        run(&nix, &args)?;
        run(
            &nix_store,
            &["--store", &r3s, "--verify", "--check-contents"],
        )?;
        for p in &paths {
            let full = src.store_dir().display(p);
            let h = run(&nix_store, &["--store", &r3s, "-q", "--hash", &full])?;
            let info = src.query_path_info(p)?.ok_or("valid")?;
            assert_eq!(h.trim(), info.nar_hash.to_typed_nix32());
        }
    }
    Ok(())
}
