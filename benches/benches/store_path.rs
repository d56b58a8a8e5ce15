//! nix-store part 1: nix32, store path parsing and reference scanning.
//!
//! `cargo bench -p nixrs-benches --bench store_path`
//!
//! * `store/nix32/encode-20B`, `store/nix32/encode-32B`, `store/nix32/decode-52`: per call.
//! * `store/store_path/parse-full`: `StoreDir::parse_path` of a full path, per call.
//! * `store/references/scan/{mixed,text}-256MiB-1000`: `ReferenceScanner` over a 256 MiB
//!   in-memory buffer with 1,000 candidate hash parts (throughput). "mixed" is binary data with
//!   text and store paths in it (like build outputs), "text" is all lower-case ASCII text, the
//!   worst case for the skip-ahead search.
//! * The 1 GiB figure: the 256 MiB buffer streamed 4 times in 64 KiB writes, timed once and
//!   printed as GB/s of wall time and of this thread's CPU time (which does not depend on the
//!   load of a shared machine).
//! * Peer: `memchr::memmem` searching each of the 1,000 candidates (the naive approach), on a
//!   16 MiB slice; its throughput and the ratio are printed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nix_store::hash::nix32;
use nix_store::references::ReferenceScanner;
use nix_store::store_path::StoreDir;

const MIB: usize = 1 << 20;
const BUF: usize = 256 * MIB;
const CANDIDATES: usize = 1000;

use testkit::Rng;

fn hash_part(rng: &mut Rng) -> Vec<u8> {
    (0..32)
        .map(|_| nix32::ALPHABET[(rng.next_u64() % 32) as usize])
        .collect()
}

/// Candidates, and the buffer with some of them (and many other store paths) in it.
fn data(text_only: bool) -> (Vec<String>, Vec<u8>) {
    let mut rng = Rng(0x0123_4567_89ab_cdef ^ text_only as u64);
    let candidates: Vec<Vec<u8>> = (0..CANDIDATES).map(|_| hash_part(&mut rng)).collect();
    let words: &[&[u8]] = &[
        b"the ",
        b"lib",
        b"/usr/share/",
        b"GLIBC_2.34 ",
        b"int main",
        b"\n",
        b"config",
        b"--prefix=",
    ];
    let mut buf = Vec::with_capacity(BUF + 4096);
    while buf.len() < BUF {
        match rng.next_u64() % 100 {
            // a store path reference: one of the candidates 1 time in 10
            0..=1 => {
                buf.extend_from_slice(b"/nix/store/");
                match rng.next_u64() % 10 {
                    0 => {
                        buf.extend_from_slice(
                            &candidates[(rng.next_u64() % CANDIDATES as u64) as usize],
                        );
                    }
                    _ => {
                        buf.extend(hash_part(&mut rng));
                    }
                }
                buf.extend_from_slice(b"-glibc-2.38/lib/libc.so.6");
            }
            2..=40 => buf.extend_from_slice(words[(rng.next_u64() % words.len() as u64) as usize]),
            _ if text_only => {
                let n = rng.next_u64() % 12;
                buf.extend((0..n).map(|_| b'a' + (rng.next_u64() % 26) as u8));
                buf.push(b' ');
            }
            _ => {
                let n = 64 + rng.next_u64() % 512;
                buf.extend((0..n).map(|_| rng.next_u64() as u8));
            }
        }
    }
    buf.truncate(BUF);
    let candidates = candidates
        .into_iter()
        .map(|c| String::from_utf8(c).expect("ascii"))
        .collect();
    (candidates, buf)
}

fn scan(candidates: &[String], buf: &[u8], chunk: usize) -> usize {
    let mut s = ReferenceScanner::for_hash_parts(candidates).expect("valid candidates");
    for c in buf.chunks(chunk) {
        s.update(c);
    }
    s.found_hash_parts().len()
}

fn naive(candidates: &[String], buf: &[u8]) -> usize {
    candidates
        .iter()
        .filter(|c| memchr::memmem::find(buf, c.as_bytes()).is_some())
        .count()
}

/// CPU time of this thread (user + system) from `/proc/thread-self/stat`, in clock ticks of
/// 10 ms; `None` where that file does not exist. On a shared machine this is the figure that
/// does not depend on how much of the CPU other processes took.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn gbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e9
}

fn bench(c: &mut Criterion) {
    let digest20 = [0x5au8; 20];
    let digest32 = [0xa5u8; 32];
    let text52 = nix32::encode(&digest32);
    c.bench_function("store/nix32/encode-20B", |b| {
        b.iter(|| nix32::encode(black_box(&digest20)))
    });
    c.bench_function("store/nix32/encode-32B", |b| {
        b.iter(|| nix32::encode(black_box(&digest32)))
    });
    c.bench_function("store/nix32/decode-52", |b| {
        b.iter(|| nix32::decode(black_box(&text52)))
    });
    let dir = StoreDir::default();
    let path = "/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello-2.12.1";
    c.bench_function("store/store_path/parse-full", |b| {
        b.iter(|| dir.parse_path(black_box(path)))
    });

    for (label, text_only) in [("mixed", false), ("text", true)] {
        let (candidates, buf) = data(text_only);
        let mut g = c.benchmark_group("store/references/scan");
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(8));
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_function(format!("{label}-256MiB-1000"), |b| {
            b.iter(|| scan(&candidates, black_box(&buf), 64 * 1024))
        });
        g.finish();

        // One timed 1 GiB stream (the buffer 4 times, 64 KiB writes).
        let cpu_start = thread_cpu_time();
        let start = Instant::now();
        let mut s = ReferenceScanner::for_hash_parts(&candidates).expect("valid candidates");
        for _ in 0..4 {
            for chunk in buf.chunks(64 * 1024) {
                s.update(chunk);
            }
        }
        let ours = start.elapsed();
        let cpu = cpu_start
            .zip(thread_cpu_time())
            .map(|(a, b)| b.saturating_sub(a));
        let found = s.found_hash_parts().len();
        // The naive peer on 16 MiB (it makes 1,000 passes).
        let slice = &buf[..16 * MIB];
        let start = Instant::now();
        let naive_found = naive(&candidates, slice);
        let peer = start.elapsed();
        assert_eq!(
            naive_found,
            scan(&candidates, slice, 64 * 1024),
            "scanner disagrees with memmem"
        );
        let ours_gbps = gbps(4 * buf.len(), ours);
        let peer_gbps = gbps(slice.len(), peer);
        let cpu_gbps = cpu.filter(|d| !d.is_zero()).map(|d| gbps(4 * buf.len(), d));
        println!(
            "store/references/{label}: 1 GiB stream, 1000 candidates: {ours_gbps:.2} GB/s wall, {} GB/s of \
             CPU time ({found} found); memmem x1000 peer: {peer_gbps:.3} GB/s; ratio {:.0}x",
            cpu_gbps.map_or("?".to_string(), |g| format!("{g:.2}")),
            ours_gbps / peer_gbps
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
