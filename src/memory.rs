//! The process's memory: giving freed memory back to the operating system
//! after `POST /_admin/reset`, and the memory limit ([`MemoryLimit`],
//! `--max-memory-bytes`) past which writes are refused.
//!
//! A reset drops every object it forgets, but the allocator keeps the freed
//! pages (dirty pages) for reuse, so a server that held 100k agents would
//! keep that resident size for good. The library cannot know which
//! allocator the process runs, so the binary installs the release step
//! once at start ([`set_release_hook`]; `src/main.rs` purges jemalloc's
//! arenas) and the reset handler runs it through [`release`]. Without a
//! hook (tests, embedders) [`release`] does nothing. Likewise the binary
//! installs the probe the memory limit reads ([`set_usage_probe`]).

use std::sync::OnceLock;

use axum::http::Method;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Installs the process's release step. Only the first call takes effect
/// (the allocator is per process); returns whether this call installed it.
pub fn set_release_hook(f: fn()) -> bool {
    RELEASE.set(f).is_ok()
}

/// Runs the installed release step off the async workers (a purge of a
/// few hundred MiB takes tens of milliseconds) and waits for it; returns
/// at once when none is installed.
pub async fn release() {
    if let Some(f) = RELEASE.get().copied() {
        if let Err(e) = tokio::task::spawn_blocking(f).await {
            tracing::warn!("releasing memory failed: {e}");
        }
    }
}

/// Default `--max-memory-bytes`: 1 GiB.
pub const DEFAULT_MAX_MEMORY_BYTES: usize = 1 << 30;

/// How long a reading of the process's memory stays fresh: 100 ms
/// (wall-clock).
pub const FRESH_MS: u64 = 100;

/// Reads the process's memory in use, in bytes.
pub type Probe = fn() -> Option<usize>;

static PROBE: OnceLock<Probe> = OnceLock::new();

/// Installs the process's memory probe (the binary reads its resident set
/// size from `/proc/self/status` on Linux). Only the first call takes
/// effect; returns whether this call installed it. Without a probe
/// (tests, embedders, other systems) no [`MemoryLimit`] ever refuses.
pub fn set_usage_probe(f: Probe) -> bool {
    PROBE.set(f).is_ok()
}

/// The memory limit (`--max-memory-bytes`, a mock extension): past it, the
/// requests that can make the state grow ([`grows`]) are refused with 507
/// ([`refusal_message`]) until the process holds less again (`POST
/// /_admin/reset` frees and purges). The stores that bound themselves in
/// bytes (ended calls, analytics rows, the journal) make room by forgetting
/// instead; this limit bounds everything else a client can add (agents and
/// their history, audiences, knowledge bases, webhooks, organizations) in
/// bytes, whatever their counts.
///
/// The reading is taken at most every [`FRESH_MS`], and before every
/// decision once it is within an eighth of the limit ([`must_probe`]), so
/// writes admitted between two readings can pass the limit by what they
/// hold (a request body is at most 5.25 MiB).
#[derive(Debug)]
pub struct MemoryLimit {
    limit: usize,
    probe: Option<Probe>,
    origin: std::time::Instant,
    reading: std::sync::atomic::AtomicUsize,
    /// When `reading` was taken, in ms since `origin` plus one; 0: never.
    read_at: std::sync::atomic::AtomicU64,
}

impl MemoryLimit {
    /// A limit of `limit` bytes read through the installed probe
    /// ([`set_usage_probe`]); `0` turns it off.
    pub fn new(limit: usize) -> Self {
        Self::with_probe(limit, PROBE.get().copied())
    }

    /// A limit read through `probe` (tests give their own).
    pub fn with_probe(limit: usize, probe: Option<Probe>) -> Self {
        Self {
            limit,
            probe: probe.filter(|_| limit > 0),
            origin: std::time::Instant::now(),
            reading: Default::default(),
            read_at: Default::default(),
        }
    }

    /// `Some(bytes in use)` when the process holds more than the limit;
    /// `None` under it, when off, or when the probe cannot tell.
    pub fn exceeded(&self) -> Option<usize> {
        use std::sync::atomic::Ordering::Relaxed;
        let probe = self.probe?;
        let now = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1;
        let (mut reading, read_at) = (self.reading.load(Relaxed), self.read_at.load(Relaxed));
        if read_at == 0 || must_probe(reading, self.limit, now - read_at.min(now)) {
            reading = probe()?;
            self.reading.store(reading, Relaxed);
            self.read_at.store(now, Relaxed);
        }
        (reading > self.limit).then_some(reading)
    }

    /// The limit in bytes (0: off).
    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Whether a reading of `reading` bytes taken `age_ms` ago must be taken
/// again before deciding against `limit`: when it is stale ([`FRESH_MS`])
/// or within an eighth of the limit (or past it), so the decision near
/// the limit, and the recovery after a reset, read the present.
pub fn must_probe(reading: usize, limit: usize, age_ms: u64) -> bool {
    age_ms >= FRESH_MS || reading >= limit - limit / 8
}

/// Whether a request can make the state grow, and so is refused past the
/// [`MemoryLimit`]: `POST`, `PUT` and `PATCH` outside the control API
/// (`/_admin/…`). Reads, `DELETE`s and the control API always run, so a
/// suite can free memory (`POST /_admin/reset`) and look around.
pub fn grows(method: &Method, path: &str) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH) && !path.starts_with("/_admin/")
}

/// The resident set size in bytes that a `/proc/<pid>/status` text
/// gives (its `VmRSS:` line, in kB); `None` without one.
pub fn vm_rss(status: &str) -> Option<usize> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: usize = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// 507's message past the [`MemoryLimit`].
pub fn refusal_message(in_use: usize, limit: usize) -> String {
    format!(
        "Insufficient storage: the mock holds {in_use} bytes, over its memory limit of {limit} bytes \
         (--max-memory-bytes); free some with POST /_admin/reset or raise the limit"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static FAKE: AtomicUsize = AtomicUsize::new(0);

    fn fake() -> Option<usize> {
        Some(FAKE.load(Ordering::Relaxed))
    }

    #[test]
    fn a_limit_refuses_past_it_and_lets_go_once_memory_is_freed() {
        FAKE.store(900, Ordering::Relaxed);
        let m = MemoryLimit::with_probe(1000, Some(fake));
        assert_eq!(m.exceeded(), None);
        FAKE.store(1001, Ordering::Relaxed);
        assert_eq!(m.exceeded(), Some(1001), "within an eighth of the limit every decision reads again");
        FAKE.store(10, Ordering::Relaxed);
        assert_eq!(m.exceeded(), None, "past the limit too: a reset is seen at once");
        assert_eq!(MemoryLimit::with_probe(0, Some(fake)).exceeded(), None, "0 is off");
        assert_eq!(MemoryLimit::with_probe(1, None).exceeded(), None, "no probe, no refusal");
    }

    #[test]
    fn the_resident_set_is_read_from_the_vmrss_line() {
        assert_eq!(vm_rss("Name:\tatoms-mock\nVmRSS:\t   14848 kB\nThreads:\t3\n"), Some(14848 * 1024));
        assert_eq!(vm_rss("Name:\tatoms-mock\n"), None);
        assert_eq!(vm_rss("VmRSS:\tlots kB\n"), None);
    }

    #[test]
    fn only_writes_outside_the_control_api_are_refused() {
        assert!(grows(&Method::POST, "/atoms/v1/agent"));
        assert!(grows(&Method::PATCH, "/atoms/v1/agent/x/drafts/y/config"));
        assert!(grows(&Method::PUT, "/_storage/knowledgebase/a"));
        assert!(!grows(&Method::GET, "/atoms/v1/agent"));
        assert!(!grows(&Method::DELETE, "/atoms/v1/agent/x"));
        assert!(!grows(&Method::POST, "/_admin/reset"));
    }

    proptest! {
        /// A fresh reading far from the limit is trusted; a stale one, or
        /// one near or past the limit, never is.
        #[test]
        fn a_reading_is_trusted_only_while_fresh_and_far_from_the_limit(
            reading in 0usize..10_000, limit in 1usize..10_000, age in 0u64..300,
        ) {
            let trusted = !must_probe(reading, limit, age);
            prop_assert_eq!(trusted, age < FRESH_MS && reading < limit - limit / 8);
            if reading > limit {
                prop_assert!(!trusted);
            }
        }
    }
}
