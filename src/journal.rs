//! The request journal (a mock extension): every request to `/atoms/v1`
//! with what came in and what went out, for tests that assert on traffic.
//!
//! Invariants:
//! - Bounded: a ring of the last [`Journal::capacity`] entries (default
//!   [`DEFAULT_CAPACITY`]); the oldest is dropped first. Capacity 0 turns
//!   recording off.
//! - Entries are numbered from 1 in the order they are recorded, which is
//!   when the response head is ready; numbers are never reused, not even
//!   after [`Journal::clear`].
//! - The hot path is one short `parking_lot` lock around a `VecDeque`
//!   push (the entry is built before the lock); headers and bodies are kept
//!   as the bytes the server already had and only rendered on read.
//!
//! It does not record `/_admin`, `/healthz` or `/openapi.json`, and it does
//! not capture streamed response bodies (SSE, WebSocket upgrades, recording
//! downloads): those entries keep the status and headers only.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, Method};
use base64::Engine as _;
use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use tokio::sync::Notify;

use crate::domain::time::iso;
use crate::domain::Millis;

/// Entries kept by default.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Longest body kept per request or response, in bytes (64 KiB).
pub const BODY_CAPTURE: usize = 64 * 1024;

/// A captured body: at most [`BODY_CAPTURE`] bytes of it, and its size.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// The first bytes.
    pub bytes: Bytes,
    /// Bytes seen in all (more than `bytes.len()` when truncated). For a
    /// request body past the 1 MiB cap: the bytes read before it was
    /// handed on to be refused.
    pub size: usize,
}

impl Captured {
    /// Keeps `body` whole, or a copy of its first [`BODY_CAPTURE`] bytes
    /// (a copy, so a large buffer is not kept alive by a small slice).
    pub fn new(body: &Bytes) -> Self {
        Self::prefix(body, body.len())
    }

    /// Keeps at most [`BODY_CAPTURE`] bytes of `head`, of a body of `size`
    /// bytes in all.
    pub fn prefix(head: &Bytes, size: usize) -> Self {
        let bytes =
            if head.len() <= BODY_CAPTURE { head.clone() } else { Bytes::copy_from_slice(&head[..BODY_CAPTURE]) };
        Self { bytes, size }
    }

    /// Whether bytes were dropped.
    pub fn truncated(&self) -> bool {
        self.size > self.bytes.len()
    }
}

/// One request and its answer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Position, from 1; assigned by [`Journal::record`].
    pub seq: u64,
    /// Arrival, epoch ms on the mock's clock.
    pub at: Millis,
    /// Real time from arrival to the response head, in ms.
    pub latency_ms: u64,
    /// HTTP method.
    pub method: Method,
    /// Path, e.g. `/atoms/v1/agent`.
    pub path: String,
    /// Raw query string, without `?`.
    pub query: Option<String>,
    /// The Bearer token as sent.
    pub api_key: Option<String>,
    /// Request headers as received (rendered with `authorization` redacted).
    pub request_headers: HeaderMap,
    /// Request body.
    pub request_body: Captured,
    /// Response status code.
    pub status: u16,
    /// Response headers.
    pub response_headers: HeaderMap,
    /// Response body; `None` when it was streamed and not captured.
    pub response_body: Option<Captured>,
    /// Id of the fault rule that answered or delayed the request.
    pub fault: Option<Arc<str>>,
}

/// Which status codes match: one code, or a class (`5xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    /// Exactly this code.
    Exact(u16),
    /// Any code with this first digit.
    Class(u16),
}

impl StatusMatch {
    /// Parses `503` or `5xx` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(d) = s.strip_suffix("xx").or_else(|| s.strip_suffix("XX")) {
            return d.parse().ok().filter(|d| (1..=5).contains(d)).map(Self::Class);
        }
        s.parse().ok().filter(|c| (100..=599).contains(c)).map(Self::Exact)
    }

    fn matches(self, status: u16) -> bool {
        match self {
            Self::Exact(c) => status == c,
            Self::Class(d) => status / 100 == d,
        }
    }
}

/// Filters for listing and waiting; `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The Bearer token as sent.
    pub api_key: Option<String>,
    /// Method, compared ignoring case.
    pub method: Option<String>,
    /// Start of the full path (`/atoms/v1/...`).
    pub path_prefix: Option<String>,
    /// Status code or class.
    pub status: Option<StatusMatch>,
    /// Only entries with `seq` greater than this.
    pub since: u64,
}

impl Filter {
    /// Whether `e` passes.
    pub fn matches(&self, e: &Entry) -> bool {
        e.seq > self.since
            && self.api_key.as_deref().is_none_or(|k| e.api_key.as_deref() == Some(k))
            && self.method.as_deref().is_none_or(|m| e.method.as_str().eq_ignore_ascii_case(m))
            && self.path_prefix.as_deref().is_none_or(|p| e.path.starts_with(p))
            && self.status.is_none_or(|s| s.matches(e.status))
    }
}

/// Appends `item` to a ring of at most `cap` items; returns whether the
/// oldest was dropped to make room.
pub fn push_bounded<T>(ring: &mut VecDeque<T>, item: T, cap: usize) -> bool {
    let full = ring.len() >= cap;
    if full {
        ring.pop_front();
    }
    ring.push_back(item);
    full
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Arc<Entry>>,
    last_seq: u64,
}

/// The journal of one server.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    ring: Mutex<Ring>,
    recorded: Notify,
    /// Long-polls in progress; recording skips the wake-up when 0, so the
    /// hot path takes only the ring's lock.
    waiters: std::sync::atomic::AtomicUsize,
}

impl Journal {
    /// A journal keeping the last `capacity` entries (0: records nothing).
    pub fn new(capacity: usize) -> Self {
        Self { capacity, ring: Mutex::new(Ring::default()), recorded: Notify::new(), waiters: Default::default() }
    }

    /// Most entries kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether requests are recorded at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// Numbers and appends `e`, waking long-polls; returns its `seq`.
    pub fn record(&self, e: Entry) -> u64 {
        if !self.enabled() {
            return 0;
        }
        let entry = Arc::new(e);
        let (seq, evicted) = {
            let mut ring = self.ring.lock();
            ring.last_seq += 1;
            let seq = ring.last_seq;
            // The entry is not shared yet: number it in place.
            let mut entry = entry;
            if let Some(e) = Arc::get_mut(&mut entry) {
                e.seq = seq;
            }
            let evicted = if ring.entries.len() >= self.capacity { ring.entries.pop_front() } else { None };
            ring.entries.push_back(entry);
            (seq, evicted)
        };
        // Free the evicted entry outside the lock.
        drop(evicted);
        if self.waiters.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            self.recorded.notify_waiters();
        }
        seq
    }

    /// Up to `limit` entries passing `f`, oldest first, and the last `seq`
    /// recorded so far (0 before the first).
    pub fn list(&self, f: &Filter, limit: usize) -> (Vec<Arc<Entry>>, u64) {
        let ring = self.ring.lock();
        (ring.entries.iter().filter(|e| f.matches(e)).take(limit).cloned().collect(), ring.last_seq)
    }

    /// Forgets every entry (numbering goes on).
    pub fn clear(&self) {
        self.ring.lock().entries.clear();
    }

    /// Forgets the entries sent with `api_key`.
    pub fn clear_key(&self, api_key: &str) {
        self.ring.lock().entries.retain(|e| e.api_key.as_deref() != Some(api_key));
    }

    /// The first entry passing `f`, waiting up to `timeout` (real time)
    /// for one to be recorded.
    pub async fn wait(&self, f: &Filter, timeout: Duration) -> Option<Arc<Entry>> {
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        self.waiters.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _waiting = Waiting(&self.waiters);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before the look, so a record in between still wakes us.
            let recorded = self.recorded.notified();
            if let Some(hit) = self.ring.lock().entries.iter().find(|e| f.matches(e)).cloned() {
                return Some(hit);
            }
            tokio::time::timeout_at(deadline, recorded).await.ok()?;
        }
    }
}

/// A body as the control API shows it: `null` when empty, else
/// `{text | base64, size, truncated}`; `text` when the kept bytes are UTF-8
/// (a character cut by truncation is dropped), `base64` otherwise.
pub fn render_body(c: &Captured) -> Value {
    if c.size == 0 {
        return Value::Null;
    }
    let text = match std::str::from_utf8(&c.bytes) {
        Ok(t) => Some(t),
        // An incomplete character at the cut is not binary.
        Err(e) if e.error_len().is_none() && c.truncated() => std::str::from_utf8(&c.bytes[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    let (key, data) = match text {
        Some(t) => ("text", t.to_owned()),
        None => ("base64", base64::engine::general_purpose::STANDARD.encode(&c.bytes)),
    };
    json!({key: data, "size": c.size, "truncated": c.truncated()})
}

/// Headers as a JSON object (repeated names joined with `, `), with
/// `authorization` cut to its last 4 characters (`***abcd`).
pub fn render_headers(h: &HeaderMap) -> Value {
    let mut out = Map::new();
    for name in h.keys() {
        let values: Vec<String> = h
            .get_all(name)
            .iter()
            .map(|v| {
                let v = String::from_utf8_lossy(v.as_bytes());
                if name == axum::http::header::AUTHORIZATION {
                    redact(&v)
                } else {
                    v.into_owned()
                }
            })
            .collect();
        out.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
    }
    Value::Object(out)
}

/// `***` and the last 4 characters of `secret` (all of it hidden when shorter).
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let tail: String = if n > 4 { secret.chars().skip(n - 4).collect() } else { String::new() };
    format!("***{tail}")
}

/// An entry as the control API shows it.
pub fn render(e: &Entry) -> Value {
    json!({
        "seq": e.seq,
        "at": iso(e.at),
        "latencyMs": e.latency_ms,
        "method": e.method.as_str(),
        "path": e.path,
        "query": e.query,
        "apiKey": e.api_key,
        "request": {"headers": render_headers(&e.request_headers), "body": render_body(&e.request_body)},
        "response": {
            "status": e.status,
            "headers": render_headers(&e.response_headers),
            "body": e.response_body.as_ref().map_or(Value::Null, render_body),
            "streamed": e.response_body.is_none(),
        },
        "fault": e.fault.as_deref(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, key: Option<&str>, status: u16) -> Entry {
        Entry {
            seq: 0,
            at: 0,
            latency_ms: 0,
            method: Method::GET,
            path: path.into(),
            query: None,
            api_key: key.map(Into::into),
            request_headers: HeaderMap::new(),
            request_body: Captured::default(),
            status,
            response_headers: HeaderMap::new(),
            response_body: None,
            fault: None,
        }
    }

    #[test]
    fn the_ring_drops_the_oldest_past_its_capacity() {
        let mut ring = VecDeque::new();
        let dropped: Vec<bool> = (0..5).map(|i| push_bounded(&mut ring, i, 3)).collect();
        assert_eq!(dropped, [false, false, false, true, true]);
        assert_eq!(ring, [2, 3, 4]);
    }

    #[test]
    fn the_journal_keeps_the_last_entries_and_numbers_go_on_after_clear() {
        let j = Journal::new(2);
        for _ in 0..3 {
            j.record(entry("/atoms/v1/agent", None, 200));
        }
        let (list, last) = j.list(&Filter::default(), 10);
        assert_eq!(list.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(last, 3);
        j.clear();
        assert_eq!(j.record(entry("/atoms/v1/agent", None, 200)), 4);
    }

    #[test]
    fn a_zero_capacity_journal_records_nothing() {
        let j = Journal::new(0);
        assert_eq!(j.record(entry("/atoms/v1/agent", None, 200)), 0);
        assert!(j.list(&Filter::default(), 10).0.is_empty());
    }

    #[test]
    fn filters_combine_key_method_prefix_status_and_since() {
        let mut e = entry("/atoms/v1/agent/1", Some("k1"), 503);
        e.seq = 5;
        let f = |f: Filter| f.matches(&e);
        assert!(f(Filter { api_key: Some("k1".into()), method: Some("get".into()), ..Filter::default() }));
        assert!(!f(Filter { api_key: Some("k2".into()), ..Filter::default() }));
        assert!(f(Filter { path_prefix: Some("/atoms/v1/agent".into()), ..Filter::default() }));
        assert!(!f(Filter { path_prefix: Some("/atoms/v1/call".into()), ..Filter::default() }));
        assert!(f(Filter { status: StatusMatch::parse("5xx"), ..Filter::default() }));
        assert!(!f(Filter { status: StatusMatch::parse("500"), ..Filter::default() }));
        assert!(f(Filter { since: 4, ..Filter::default() }));
        assert!(!f(Filter { since: 5, ..Filter::default() }));
    }

    #[test]
    fn status_filters_parse_codes_and_classes() {
        assert_eq!(StatusMatch::parse("404"), Some(StatusMatch::Exact(404)));
        assert_eq!(StatusMatch::parse("4XX"), Some(StatusMatch::Class(4)));
        assert_eq!(StatusMatch::parse("9xx"), None);
        assert_eq!(StatusMatch::parse("42"), None);
    }

    #[test]
    fn bodies_render_as_text_or_base64_with_their_size() {
        assert_eq!(render_body(&Captured::default()), Value::Null);
        let text = Captured::new(&Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(render_body(&text), json!({"text": "{\"a\":1}", "size": 7, "truncated": false}));
        let bin = Captured::new(&Bytes::from_static(&[0xff, 0x00]));
        assert_eq!(render_body(&bin), json!({"base64": "/wA=", "size": 2, "truncated": false}));
    }

    #[test]
    fn long_bodies_are_cut_at_64_kib_without_turning_into_base64() {
        let mut body = vec![b'a'; BODY_CAPTURE - 1];
        body.extend_from_slice("é and more".as_bytes());
        let c = Captured::new(&Bytes::from(body));
        assert_eq!(c.bytes.len(), BODY_CAPTURE);
        let v = render_body(&c);
        assert_eq!(v["text"].as_str().map(str::len), Some(BODY_CAPTURE - 1));
        assert_eq!(v["truncated"], true);
    }

    #[test]
    fn authorization_is_redacted_to_its_last_four_characters() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer sk_live_1234".parse().expect("value"));
        h.append("x-a", "1".parse().expect("value"));
        h.append("x-a", "2".parse().expect("value"));
        assert_eq!(render_headers(&h), json!({"authorization": "***1234", "x-a": "1, 2"}));
        assert_eq!(redact("abc"), "***");
    }

    #[tokio::test]
    async fn waiting_returns_a_later_record_and_times_out_without_one() {
        let j = Arc::new(Journal::new(10));
        let f = Filter { status: Some(StatusMatch::Exact(201)), ..Filter::default() };
        assert!(j.wait(&f, Duration::from_millis(1)).await.is_none());
        let waiter = {
            let (j, f) = (Arc::clone(&j), f.clone());
            tokio::spawn(async move { j.wait(&f, Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        j.record(entry("/atoms/v1/agent", None, 200));
        j.record(entry("/atoms/v1/agent", None, 201));
        let hit = waiter.await.expect("join").expect("entry");
        assert_eq!(hit.seq, 2);
    }
}
