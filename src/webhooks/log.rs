//! The delivery log (a mock extension, R158 allows it): every delivery
//! with the exact request sent and every attempt's outcome, plus a change
//! counter that long-polling readers wait on.
//!
//! Bounded: the oldest entries are forgotten past [`LOG_CAPACITY`]. All
//! methods are synchronous and take the lock only briefly.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::domain::time::iso;
use crate::domain::Millis;

/// Most deliveries kept; older ones are dropped first.
pub const LOG_CAPACITY: usize = 10_000;
/// Longest response body kept per attempt, in bytes.
pub const RESPONSE_SNIPPET: usize = 2048;

/// The outcome of a delivery so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryResult {
    /// Queued, in flight, or waiting for an opt-in retry.
    Pending,
    /// A 2xx answer.
    Succeeded,
    /// Non-2xx, network error, timeout or queue full (R146).
    Failed,
}

impl DeliveryResult {
    /// `PENDING`, `SUCCEEDED` or `FAILED` (the platform logs `FAILED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }

    /// Parses a name, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed].into_iter().find(|r| r.as_str().eq_ignore_ascii_case(s))
    }
}

/// The exact request of a delivery: what is signed, sent and logged.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingRequest {
    /// Endpoint URL.
    pub url: String,
    /// Headers in sending order (Content-Type, X-Signature, custom).
    pub headers: Vec<(String, String)>,
    /// The raw body bytes (UTF-8 JSON).
    pub body: Arc<[u8]>,
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// 1-based; redeliveries continue the count.
    pub number: u32,
    /// Started, epoch ms on the mock's clock.
    pub started_at: Millis,
    /// HTTP status, if the receiver answered.
    pub status: Option<u16>,
    /// Wall-clock latency in ms.
    pub latency_ms: u64,
    /// Network error, timeout or non-2xx description.
    pub error: Option<String>,
    /// The receiver's body, lossily decoded, at most [`RESPONSE_SNIPPET`] bytes.
    pub response: Option<String>,
    /// Whether `response` was cut.
    pub truncated: bool,
}

impl Attempt {
    /// A 2xx answer.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// One delivery of one event to one webhook.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// 24-hex delivery id, the envelope's `id` (R147).
    pub id: String,
    /// Position in the log, from 1.
    pub seq: u64,
    /// Webhook id.
    pub webhook_id: String,
    /// Agent id.
    pub agent_id: String,
    /// `CALL-…` id.
    pub call_id: String,
    /// `pre-conversation`, `post-conversation` or `analytics-completed`.
    pub event: &'static str,
    /// Created, epoch ms.
    pub created_at: Millis,
    /// The request.
    pub request: OutgoingRequest,
    /// Outcome so far.
    pub result: DeliveryResult,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// When the next opt-in retry is due (epoch ms), while waiting.
    pub next_attempt_at: Option<Millis>,
    /// Why a delivery failed without any attempt (queue full).
    pub error: Option<String>,
}

/// Filters for listing and waiting; `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Call id.
    pub call_id: Option<String>,
    /// Webhook id.
    pub webhook_id: Option<String>,
    /// Agent id.
    pub agent_id: Option<String>,
    /// Event type name.
    pub event: Option<String>,
    /// Outcome.
    pub result: Option<DeliveryResult>,
    /// At least this many attempts.
    pub min_attempts: Option<usize>,
    /// Only entries with `seq` greater than this.
    pub after: u64,
    /// Only finished entries (not `PENDING`).
    pub finished: bool,
}

impl Filter {
    /// Whether `d` passes.
    pub fn matches(&self, d: &Delivery) -> bool {
        let eq = |want: &Option<String>, got: &str| want.as_deref().is_none_or(|w| w == got);
        d.seq > self.after
            && eq(&self.call_id, &d.call_id)
            && eq(&self.webhook_id, &d.webhook_id)
            && eq(&self.agent_id, &d.agent_id)
            && eq(&self.event, d.event)
            && self.result.is_none_or(|r| r == d.result)
            && self.min_attempts.is_none_or(|n| d.attempts.len() >= n)
            && !(self.finished && d.result == DeliveryResult::Pending)
    }
}

/// The log.
#[derive(Debug)]
pub struct DeliveryLog {
    entries: Mutex<VecDeque<Delivery>>,
    next_seq: Mutex<u64>,
    changed: watch::Sender<u64>,
}

impl Default for DeliveryLog {
    fn default() -> Self {
        Self { entries: Mutex::new(VecDeque::new()), next_seq: Mutex::new(1), changed: watch::channel(0).0 }
    }
}

impl DeliveryLog {
    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    /// Appends `d` (its `seq` is assigned here); returns the seq.
    pub fn insert(&self, mut d: Delivery) -> u64 {
        let seq = {
            let mut next = self.next_seq.lock();
            let seq = *next;
            *next += 1;
            seq
        };
        d.seq = seq;
        {
            let mut entries = self.entries.lock();
            if entries.len() == LOG_CAPACITY {
                entries.pop_front();
            }
            entries.push_back(d);
        }
        self.bump();
        seq
    }

    /// Changes one entry through `f`; false if it is gone.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut Delivery)) -> bool {
        let found = {
            let mut entries = self.entries.lock();
            entries.iter_mut().find(|d| d.id == id).map(f).is_some()
        };
        if found {
            self.bump();
        }
        found
    }

    /// One entry.
    pub fn get(&self, id: &str) -> Option<Delivery> {
        self.entries.lock().iter().find(|d| d.id == id).cloned()
    }

    /// Entries passing `f`, oldest first.
    pub fn list(&self, f: &Filter) -> Vec<Delivery> {
        self.entries.lock().iter().filter(|d| f.matches(d)).cloned().collect()
    }

    /// Forgets everything (sequence numbers keep counting).
    pub fn clear(&self) {
        self.entries.lock().clear();
        self.bump();
    }

    /// The first entry passing `f`, waiting up to `timeout` (real time)
    /// for one to appear or change into a match.
    pub async fn wait(&self, f: &Filter, timeout: std::time::Duration) -> Option<Delivery> {
        let mut rx = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            rx.borrow_and_update();
            let hit = self.entries.lock().iter().find(|d| f.matches(d)).cloned();
            if hit.is_some() {
                return hit;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => return None,
            }
        }
    }
}

/// A delivery as the control API shows it.
pub fn render(d: &Delivery) -> Value {
    let headers: serde_json::Map<String, Value> =
        d.request.headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let attempts: Vec<Value> = d
        .attempts
        .iter()
        .map(|a| {
            json!({
                "attempt": a.number, "startedAt": iso(a.started_at), "statusCode": a.status,
                "latencyMs": a.latency_ms, "error": a.error,
                "response": {"body": a.response, "truncated": a.truncated},
            })
        })
        .collect();
    json!({
        "id": d.id,
        "seq": d.seq,
        "webhookId": d.webhook_id,
        "agentId": d.agent_id,
        "callId": d.call_id,
        "event": d.event,
        "result": d.result.as_str(),
        "createdAt": iso(d.created_at),
        "nextAttemptAt": d.next_attempt_at.map(iso),
        "error": d.error,
        "request": {
            "method": "POST",
            "url": d.request.url,
            "headers": headers,
            "body": String::from_utf8_lossy(&d.request.body),
        },
        "attempts": attempts,
    })
}
