//! The request journal (a mock extension): every request to `/atoms/v1`
//! with what came in and what went out, for tests that assert on traffic.
//!
//! Invariants:
//! - Bounded in bytes and in entries: the entries kept cost at most
//!   [`Journal::budget`] bytes (default [`DEFAULT_BUDGET`], `--journal-bytes`;
//!   see [`Entry::cost`]) and number at most [`Journal::capacity`]
//!   (default [`DEFAULT_CAPACITY`], `--journal-capacity`). The oldest go
//!   first; an entry costing more than the whole budget is not kept. A
//!   budget or capacity of 0 turns recording off.
//! - Bodies are kept up to [`BODY_CAPTURE`] bytes (64 KiB) each, with
//!   their whole length; each entry counts the bytes it keeps, even where
//!   it shares them (a body that fits shares the request's or response's
//!   buffer, and a response body equal to the last one of its path slot
//!   shares that one: [`Journal::record`]).
//! - Entries are numbered from 1 in the order they are recorded, which is
//!   when the response head is ready; numbers are never reused, not even
//!   after [`Journal::clear`] or for an entry that was not kept.
//! - The hot path is one short `parking_lot` lock around a `VecDeque`
//!   push (the entry is built before the lock, evicted entries are freed
//!   after it); entries are rendered as JSON only on read.
//!
//! It does not record `/_admin`, `/healthz` or `/openapi.json`, and it does
//! not capture streamed response bodies (SSE, WebSocket upgrades, recording
//! downloads): those entries keep the status and headers only.
//!
//! Layout: [`entry`] (what an entry holds and costs), [`filter`] (which
//! entries a query wants), [`render`](mod@render) (their JSON).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

pub mod entry;
pub mod filter;
pub mod render;

pub use entry::{Captured, Entry, Headers, Text, BODY_CAPTURE};
pub use filter::{Filter, StatusMatch};
pub use render::{redact, render, render_body, render_headers, render_kept_headers};

/// Entries kept by default.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Bytes kept by default (32 MiB).
pub const DEFAULT_BUDGET: usize = 32 * 1024 * 1024;

#[derive(Debug, Default)]
struct Ring {
    /// Entries and their costs, oldest first.
    entries: VecDeque<(Arc<Entry>, usize)>,
    /// The sum of the costs.
    bytes: usize,
    last_seq: u64,
}

impl Ring {
    fn pop_oldest(&mut self) -> Option<Arc<Entry>> {
        let (e, cost) = self.entries.pop_front()?;
        self.bytes -= cost;
        Some(e)
    }

    fn retain(&mut self, keep: impl Fn(&Entry) -> bool) {
        self.entries.retain(|(e, _)| keep(e));
        self.bytes = self.entries.iter().map(|(_, cost)| cost).sum();
    }
}

/// Slots of [`Journal::share_repeated`].
const REPEAT_SLOTS: usize = 8;

/// The journal of one server.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    budget: usize,
    ring: Mutex<Ring>,
    /// The last response body recorded per slot (a hash of the path), so
    /// a repeated answer is kept once however many entries hold it.
    repeats: [Mutex<Bytes>; REPEAT_SLOTS],
    recorded: Notify,
    /// Long-polls in progress; recording skips the wake-up when 0, so the
    /// hot path takes only the ring's lock.
    waiters: AtomicUsize,
}

impl Journal {
    /// A journal keeping at most `capacity` entries costing at most
    /// `budget` bytes (either 0: records nothing).
    pub fn new(capacity: usize, budget: usize) -> Self {
        Self {
            capacity,
            budget,
            ring: Mutex::new(Ring::default()),
            repeats: Default::default(),
            recorded: Notify::new(),
            waiters: Default::default(),
        }
    }

    /// Most entries kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Most bytes kept (see [`Entry::cost`]).
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Entries kept now and the bytes they cost.
    pub fn usage(&self) -> (usize, usize) {
        let ring = self.ring.lock();
        (ring.entries.len(), ring.bytes)
    }

    /// Long-polls waiting right now.
    pub fn waiting(&self) -> usize {
        self.waiters.load(Ordering::SeqCst)
    }

    /// Whether requests are recorded at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0 && self.budget > 0
    }

    /// Numbers and appends `e`, evicting the oldest entries until it fits,
    /// and wakes long-polls; returns its `seq` (0 when disabled).
    pub fn record(&self, mut e: Entry) -> u64 {
        if !self.enabled() {
            return 0;
        }
        if let Some(body) = e.response_body.as_mut() {
            self.share_repeated(e.text.path(), &mut body.bytes);
        }
        let cost = e.cost();
        let mut entry = Arc::new(e);
        let mut evicted = None;
        let mut more_evicted = Vec::new();
        let seq = {
            let mut ring = self.ring.lock();
            ring.last_seq += 1;
            let seq = ring.last_seq;
            // The entry is not shared yet: number it in place.
            if let Some(e) = Arc::get_mut(&mut entry) {
                e.seq = seq;
            }
            if cost <= self.budget {
                while ring.entries.len() >= self.capacity || ring.bytes + cost > self.budget {
                    let Some(old) = ring.pop_oldest() else { break };
                    match evicted {
                        None => evicted = Some(old),
                        Some(_) => more_evicted.push(old),
                    }
                }
                ring.bytes += cost;
                ring.entries.push_back((entry, cost));
            }
            seq
        };
        // Free evicted entries outside the lock.
        drop((evicted, more_evicted));
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.recorded.notify_waiters();
        }
        seq
    }

    /// Makes `body`, a response body of `path`, share the buffer of the
    /// last one recorded for a path in its slot when the bytes are the same
    /// (a client polling one resource gets the same answer many times).
    /// The entry holds the same bytes either way and costs the same (see
    /// [`Entry::cost`]), so what is kept and evicted does not change; only
    /// fewer buffers are alive. The slots hold at most
    /// `REPEAT_SLOTS` × [`BODY_CAPTURE`] bytes beyond the entries.
    fn share_repeated(&self, path: &str, body: &mut Bytes) {
        if body.is_empty() {
            return;
        }
        let slot = path.bytes().fold(path.len(), |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
        let mut last = self.repeats[slot % REPEAT_SLOTS].lock();
        if *last == *body {
            *body = last.clone();
        } else {
            *last = body.clone();
        }
    }

    /// Up to `limit` entries passing `f`, oldest first, and the last `seq`
    /// recorded so far (0 before the first).
    pub fn list(&self, f: &Filter, limit: usize) -> (Vec<Arc<Entry>>, u64) {
        let ring = self.ring.lock();
        let hits = ring.entries.iter().map(|(e, _)| e).filter(|e| f.matches(e)).take(limit).cloned().collect();
        (hits, ring.last_seq)
    }

    /// Forgets every entry (numbering goes on).
    pub fn clear(&self) {
        let old = {
            let mut ring = self.ring.lock();
            ring.bytes = 0;
            std::mem::take(&mut ring.entries)
        };
        drop(old);
        self.repeats.iter().for_each(|last| drop(std::mem::take(&mut *last.lock())));
    }

    /// Forgets the entries sent with `api_key`.
    pub fn clear_key(&self, api_key: &str) {
        self.ring.lock().retain(|e| e.text.api_key() != Some(api_key));
    }

    /// The first entry passing `f`, waiting up to `timeout` (real time)
    /// for one to be recorded.
    pub async fn wait(&self, f: &Filter, timeout: Duration) -> Option<Arc<Entry>> {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiters);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before the look, so a record in between still wakes us.
            let recorded = self.recorded.notified();
            if let Some(hit) = self.ring.lock().entries.iter().map(|(e, _)| e).find(|e| f.matches(e)).cloned() {
                return Some(hit);
            }
            tokio::time::timeout_at(deadline, recorded).await.ok()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::entry::test_entry;
    use super::*;

    fn with_body(path: &str, body_len: usize) -> Entry {
        Entry { request_body: Captured::new(&vec![b'x'; body_len]), ..test_entry(path, None, 200) }
    }

    fn kept(j: &Journal) -> Vec<u64> {
        j.list(&Filter::default(), usize::MAX).0.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn the_journal_keeps_the_last_entries_and_numbers_go_on_after_clear() {
        let j = Journal::new(2, DEFAULT_BUDGET);
        for _ in 0..3 {
            j.record(test_entry("/atoms/v1/agent", None, 200));
        }
        let (list, last) = j.list(&Filter::default(), 10);
        assert_eq!(list.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(last, 3);
        j.clear();
        assert_eq!(j.usage(), (0, 0));
        assert_eq!(j.record(test_entry("/atoms/v1/agent", None, 200)), 4);
    }

    #[test]
    fn the_byte_budget_evicts_the_oldest_entries_first() {
        let one = with_body("/a", 10_000).cost();
        let j = Journal::new(DEFAULT_CAPACITY, 3 * one + one / 2);
        for _ in 0..3 {
            j.record(with_body("/a", 10_000));
        }
        assert_eq!((kept(&j), j.usage().1), (vec![1, 2, 3], 3 * one));
        j.record(with_body("/a", 10_000));
        assert_eq!(kept(&j), [2, 3, 4], "the oldest went first");
        // An entry costing two pushes out the two oldest.
        let big = with_body("/b", 10_000 + one);
        assert_eq!(big.cost(), 2 * one);
        j.record(big);
        assert_eq!(kept(&j), [4, 5]);
        assert!(j.usage().1 <= j.budget());
    }

    #[test]
    fn an_entry_over_the_whole_budget_is_numbered_but_not_kept() {
        let j = Journal::new(DEFAULT_CAPACITY, with_body("/a", 100).cost());
        j.record(with_body("/a", 100));
        assert_eq!(j.record(with_body("/a", 200_000)), 2);
        assert_eq!(kept(&j), [1], "the kept entries stay");
        assert_eq!(j.list(&Filter::default(), 10).1, 2);
    }

    #[test]
    fn clearing_one_key_gives_its_bytes_back() {
        let j = Journal::new(DEFAULT_CAPACITY, DEFAULT_BUDGET);
        let keyed = |key: &str, body_len| Entry {
            request_body: Captured::new(&vec![b'x'; body_len]),
            ..test_entry("/a", Some(key), 200)
        };
        j.record(keyed("k1", 1000));
        j.record(keyed("k2", 50));
        j.clear_key("k1");
        assert_eq!(j.usage(), (1, keyed("k2", 50).cost()));
    }

    #[test]
    fn a_repeated_response_body_is_kept_once_and_costs_the_same() {
        let j = Journal::new(DEFAULT_CAPACITY, DEFAULT_BUDGET);
        let answer = |body: &[u8]| Entry {
            response_body: Some(Captured::shared(&Bytes::copy_from_slice(body))),
            ..test_entry("/atoms/v1/agent/a", None, 200)
        };
        for body in [&b"{\"v\":1}"[..], b"{\"v\":1}", b"{\"v\":2}"] {
            j.record(answer(body));
        }
        let (list, _) = j.list(&Filter::default(), 10);
        let bodies: Vec<&Bytes> = list.iter().map(|e| &e.response_body.as_ref().expect("captured").bytes).collect();
        assert_eq!(bodies, [&b"{\"v\":1}"[..], b"{\"v\":1}", b"{\"v\":2}"]);
        assert_eq!(bodies[0].as_ptr(), bodies[1].as_ptr(), "the repeat shares the first buffer");
        assert_ne!(bodies[1].as_ptr(), bodies[2].as_ptr());
        assert_eq!(j.usage().1, 3 * answer(b"{\"v\":1}").cost(), "each entry still counts its body");
    }

    #[test]
    fn a_zero_capacity_or_budget_journal_records_nothing() {
        for j in [Journal::new(0, DEFAULT_BUDGET), Journal::new(DEFAULT_CAPACITY, 0)] {
            assert_eq!(j.record(test_entry("/atoms/v1/agent", None, 200)), 0);
            assert!(j.list(&Filter::default(), 10).0.is_empty());
        }
    }

    #[tokio::test]
    async fn waiting_returns_a_later_record_and_times_out_without_one() {
        let j = Arc::new(Journal::new(10, DEFAULT_BUDGET));
        let f = Filter { status: Some(StatusMatch::Exact(201)), ..Filter::default() };
        assert!(j.wait(&f, Duration::from_millis(1)).await.is_none());
        let waiter = {
            let (j, f) = (Arc::clone(&j), f.clone());
            tokio::spawn(async move { j.wait(&f, Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        j.record(test_entry("/atoms/v1/agent", None, 200));
        j.record(test_entry("/atoms/v1/agent", None, 201));
        let hit = waiter.await.expect("join").expect("entry");
        assert_eq!(hit.seq, 2);
    }
}
