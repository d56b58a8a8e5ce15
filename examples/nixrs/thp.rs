//! The transparent-huge-page policy of the evaluation commands.
//!
//! mimalloc reserves a large arena and asks for transparent huge pages on it
//! (`madvise(MADV_HUGEPAGE)`), so on a machine with THP in `madvise` (or `always`) mode every
//! touched 2 MiB region of the heap becomes resident as a whole: a small evaluation
//! (`nix-instantiate` of a few hundred derivations) keeps several MiB it never uses. A big heap,
//! on the other hand, is faster with huge pages (fewer page faults and TLB misses).
//!
//! So an evaluation command starts with THP disabled for the process
//! (`prctl(PR_SET_THP_DISABLE)`), and a small watcher thread turns it back on as soon as the
//! resident set reaches [`THRESHOLD`]: small evaluations pay no 2 MiB granularity, big ones
//! keep huge pages for everything they allocate from then on.
//!
//! The flag is inherited by child processes. It is applied only to commands that evaluate
//! and never build (`nix-instantiate`, `nixrs eval`): builders are never started with THP
//! disabled because of us. The only children an evaluation starts are the `git` processes of
//! `builtins.fetchGit` while the heap is still small; without huge pages they lose nothing
//! measurable (and under THP `madvise` mode they would not get any anyway).

/// The resident set size from which huge pages are allowed again.
#[cfg(target_os = "linux")]
const THRESHOLD: u64 = 32 << 20;

/// How often the watcher looks at the resident set size.
#[cfg(target_os = "linux")]
const POLL: std::time::Duration = std::time::Duration::from_millis(4);

/// Disables transparent huge pages for this process until it has grown to [`THRESHOLD`]
/// bytes resident. Does nothing where THP cannot be controlled per process.
#[cfg(target_os = "linux")]
pub(crate) fn small_heap_policy() {
    use std::os::unix::fs::FileExt;

    let Ok(statm) = std::fs::File::open("/proc/self/statm") else {
        return;
    };
    if rustix::thread::disable_transparent_huge_pages(true).is_err() {
        return;
    }
    let page = rustix::param::page_size() as u64;
    // Growing the file-descriptor table of a process with more than one thread waits for an
    // RCU grace period (10–20 ms here, at 64, 256 and 512 open files); instantiation holds
    // hundreds of lock files open at once. Grow it to 1024 now, while this is the only thread.
    let _ = rustix::io::fcntl_dupfd_cloexec(&statm, 1023);
    let watcher = move || {
        let mut buf = [0u8; 128];
        loop {
            std::thread::sleep(POLL);
            let resident = statm
                .read_at(&mut buf, 0)
                .ok()
                .and_then(|n| resident_pages(&buf[..n]));
            match resident {
                Some(pages) if pages.saturating_mul(page) < THRESHOLD => {}
                // big enough, or unreadable: back to the system's default
                _ => break,
            }
        }
        let _ = rustix::thread::disable_transparent_huge_pages(false);
    };
    let spawned = std::thread::Builder::new()
        .name("thp-policy".into())
        .stack_size(64 << 10)
        .spawn(watcher);
    if spawned.is_err() {
        let _ = rustix::thread::disable_transparent_huge_pages(false);
    }
}

/// No per-process THP control on this system.
#[cfg(not(target_os = "linux"))]
pub(crate) fn small_heap_policy() {}

/// The second field of `/proc/self/statm`: resident pages.
#[cfg(target_os = "linux")]
fn resident_pages(statm: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(statm).ok()?;
    text.split_ascii_whitespace().nth(1)?.parse().ok()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn huge_pages_come_back_once_the_process_is_big() {
        if rustix::thread::transparent_huge_pages_are_disabled().is_err() {
            eprintln!("SKIP: no per-process THP control here");
            return;
        }
        small_heap_policy();
        // the test process is still small: huge pages are off
        assert_eq!(
            rustix::thread::transparent_huge_pages_are_disabled().ok(),
            Some(true)
        );
        let big = vec![1u8; 2 * THRESHOLD as usize];
        let mut back = false;
        for _ in 0..2500 {
            if rustix::thread::transparent_huge_pages_are_disabled().ok() == Some(false) {
                back = true;
                break;
            }
            std::thread::sleep(POLL);
        }
        assert!(big.iter().all(|&b| b == 1));
        assert!(
            back,
            "huge pages still disabled with {} MiB resident",
            big.len() >> 20
        );
    }

    #[test]
    fn reads_resident_pages() {
        assert_eq!(resident_pages(b"5000 1234 300 20 0 900 0\n"), Some(1234));
        assert_eq!(resident_pages(b"5000"), None);
        assert_eq!(resident_pages(b""), None);
    }
}
