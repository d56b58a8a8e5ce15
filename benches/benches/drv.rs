//! nix-derivation: `.drv` parsing, printing and `hashDerivationModulo`.
//!
//! `cargo bench -p nixrs-benches --bench drv`
//!
//! * `derivation/parse/{big-package,synthetic-1MiB}` and `derivation/print/…`: the 15 KB
//!   nixpkgs-like `.drv` from `nix-derivation/tests/fixtures/drv` (made by CppNix 2.8), and a
//!   synthesized 1 MiB one (2,000 environment variables with escapes, 300 input derivations);
//!   throughput in bytes of ATerm.
//! * `derivation/json/big-package`: `nix show-derivation` JSON of the 15 KB one.
//! * `derivation/hash_modulo/big-package`: `hashDerivationModulo` of the fixture with its
//!   inputs memoised (one ATerm print and one sha256).
//! * `derivation/hash_modulo/graph-1000`: a fresh memo and a 1,000-derivation graph (up to 5
//!   inputs each, in memory): every derivation hashed once, per iteration.
//!
//! No peer runs here: CppNix has no command that only parses a `.drv` (every `nix` command
//! pays for start-up and store opening), and the `nix-compat` crate is not a dependency of the
//! workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nix_derivation::hash_modulo::{
    hash_derivation_modulo, hash_input, DrvHashCache, DrvResolver, FsResolver,
};
use nix_derivation::outputs::fill_outputs;
use nix_derivation::store::store_path::{StoreDir, StorePath};
use nix_derivation::{json, Derivation, DerivationOutput};

use testkit::Rng;

fn fixtures() -> PathBuf {
    testkit::workspace_root().join("nix-derivation/tests/fixtures/drv")
}

const BIG: &str = "hd567b43p4ca05ai7n2rjg7lm5377717-big-package-1.0.drv";

fn fake_path(rng: &mut Rng, name: &str) -> StorePath {
    const A: &[u8] = b"0123456789abcdfghijklmnpqrsvwxyz";
    let hash: String = (0..32).map(|_| A[rng.below(32)] as char).collect();
    StorePath::from_base_name(&format!("{hash}-{name}")).expect("valid generated path")
}

/// A 1 MiB derivation.
fn synthetic() -> Derivation {
    let mut rng = Rng(0xd1ff_0123_4567_89ab);
    let mut drv = Derivation::default();
    for o in ["out", "dev", "lib", "man"] {
        drv.outputs.insert(
            o.into(),
            DerivationOutput::InputAddressed(fake_path(&mut rng, o)),
        );
    }
    for i in 0..300 {
        let outs = BTreeSet::from(["out".to_string(), "dev".to_string()]);
        drv.input_drvs
            .insert(fake_path(&mut rng, &format!("dep-{i}.drv")), outs);
    }
    for i in 0..100 {
        drv.input_srcs
            .insert(fake_path(&mut rng, &format!("src-{i}.patch")));
    }
    drv.system = b"x86_64-linux".to_vec();
    drv.builder = b"/nix/store/ffffffffffffffffffffffffffffffff-bash-5.2/bin/bash".to_vec();
    drv.args = vec![
        b"-e".to_vec(),
        b"/nix/store/ffffffffffffffffffffffffffffffff-default-builder.sh".to_vec(),
    ];
    let pieces: &[&[u8]] = &[
        b"echo \"$out\"\n",
        b"\tmake -j$NIX_BUILD_CORES ",
        b"C:\\path ",
        b"/nix/store/ffffffffffffffffffffffffffffffff-gcc ",
        b"plain words ",
    ];
    for i in 0..2000 {
        let mut v = Vec::new();
        while v.len() < 480 {
            v.extend_from_slice(pieces[rng.below(pieces.len())]);
        }
        drv.env.insert(format!("var{i}").into_bytes(), v);
    }
    drv
}

/// A consistent graph of `n` derivations (real output and `.drv` paths), and its last one.
fn graph(n: usize) -> (BTreeMap<StorePath, Derivation>, StorePath) {
    let store_dir = StoreDir::default();
    let mut rng = Rng(0x0bad_cafe_f00d_0001);
    let mut map: BTreeMap<StorePath, Derivation> = BTreeMap::new();
    let mut paths: Vec<StorePath> = Vec::new();
    let mut cache = DrvHashCache::new();
    for i in 0..n {
        let name = format!("pkg-{i}");
        let mut drv = Derivation::default();
        drv.outputs.insert("out".into(), DerivationOutput::Deferred);
        if i % 3 == 0 {
            drv.outputs.insert("dev".into(), DerivationOutput::Deferred);
        }
        for _ in 0..rng.below(6).min(paths.len()) {
            let dep = paths[rng.below(paths.len())].clone();
            drv.input_drvs
                .insert(dep, BTreeSet::from(["out".to_string()]));
        }
        drv.system = b"x86_64-linux".to_vec();
        drv.builder = b"/bin/sh".to_vec();
        drv.env.insert(b"name".to_vec(), name.clone().into_bytes());
        fill_outputs(&mut drv, &name, &store_dir, &mut map, &mut cache).expect("graph derivation");
        let path = drv.drv_path(&store_dir, &name).expect("drv path");
        map.insert(path.clone(), drv);
        paths.push(path);
    }
    let top = paths.pop().expect("n > 0");
    (map, top)
}

fn bench(c: &mut Criterion) {
    let store_dir = StoreDir::default();
    let big_bytes =
        std::fs::read(fixtures().join(BIG)).expect("fixture .drv (run from the workspace)");
    let big = Derivation::parse(&big_bytes, &store_dir).expect("fixture parses");
    let synth = synthetic();
    let synth_bytes = synth.to_aterm(&store_dir);

    let mut g = c.benchmark_group("derivation");
    for (id, bytes, drv) in [
        ("big-package", &big_bytes, &big),
        ("synthetic-1MiB", &synth_bytes, &synth),
    ] {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("parse/{id}"), |b| {
            b.iter(|| Derivation::parse(black_box(bytes), &store_dir).expect("parses"))
        });
        g.bench_function(format!("print/{id}"), |b| {
            b.iter(|| black_box(drv).to_aterm(&store_dir))
        });
    }
    g.throughput(Throughput::Bytes(big_bytes.len() as u64));
    let big_path = StorePath::from_base_name(BIG).expect("fixture name");
    g.bench_function("json/big-package", |b| {
        let all = BTreeMap::from([(big_path.clone(), big.clone())]);
        b.iter(|| json::show_derivation(&store_dir, black_box(&all)))
    });

    // Inputs memoised once; then one hash per iteration.
    let mut resolver = FsResolver::new(store_dir.clone(), fixtures());
    let mut inputs: BTreeMap<StorePath, Derivation> = BTreeMap::new();
    for p in big.input_drvs.keys() {
        inputs.insert(p.clone(), resolver.read_drv(p).expect("fixture input"));
    }
    let mut cache = DrvHashCache::new();
    for p in big.input_drvs.keys() {
        hash_input(p, &store_dir, &mut inputs, &mut cache).expect("input hash");
    }
    g.bench_function("hash_modulo/big-package", |b| {
        b.iter(|| {
            hash_derivation_modulo(black_box(&big), &store_dir, true, &mut inputs, &mut cache)
                .expect("hash")
        })
    });

    let (mut map, top) = graph(1000);
    g.throughput(Throughput::Elements(map.len() as u64));
    g.bench_function("hash_modulo/graph-1000", |b| {
        b.iter(|| {
            let mut cache = DrvHashCache::new();
            hash_input(black_box(&top), &store_dir, &mut map, &mut cache).expect("graph hash")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
