//! Event fan-out, shared by every consumer so they cannot disagree.
//!
//! - [`CallHub`]: one per call. Holds the call's ordered event log and
//!   broadcasts each new event as an `Arc`; the SSE frame is serialized
//!   once and shared by every subscriber. [`CallHub::subscribe`] takes the
//!   snapshot and the receiver under one lock, so a subscriber sees every
//!   event exactly once, in order, with no gap.
//! - [`LifecycleBus`]: one per server. Sequence-numbered call milestones
//!   (pre-conversation, post-conversation, analytics-completed) with a
//!   bounded replay log, followed by the webhook dispatcher.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::broadcast;

/// One event of a call, as stored in the call log and sent over SSE.
///
/// Kept once, as its SSE frame: the call detail splices [`CallEvent::json`]
/// into its body, and the rare readers that need fields (snapshots, the
/// conversation details) parse it on demand ([`CallEvent::value`]). Only
/// the `event_type`, which the SSE stream filters on (R129), is kept
/// beside it.
#[derive(Debug)]
pub struct CallEvent {
    /// 1-based position in the call.
    pub seq: u64,
    /// Its `event_type` (empty when it has none).
    pub event_type: Box<str>,
    /// The SSE frame `data: <json>\n\n`, serialized once.
    pub frame: Bytes,
}

impl CallEvent {
    /// The event `value` (a JSON object) as event `seq`.
    fn new(seq: u64, value: &Value) -> Self {
        let event_type = value.get("event_type").and_then(Value::as_str).unwrap_or_default().into();
        Self { seq, event_type, frame: Bytes::from(format!("data: {value}\n\n")) }
    }

    /// The event's JSON text (the frame without `data: ` and the blank line).
    pub fn json(&self) -> &[u8] {
        let f = &self.frame[..];
        f.get(6..f.len().saturating_sub(2)).unwrap_or(b"{}")
    }

    /// The event parsed back into a JSON object (`Null` if the frame were
    /// not JSON, which [`CallHub`] never stores).
    pub fn value(&self) -> Value {
        serde_json::from_slice(self.json()).unwrap_or(Value::Null)
    }

    /// Approximate bytes the event holds: its frame, its type and the
    /// record itself.
    pub fn bytes(&self) -> usize {
        self.frame.len() + self.event_type.len() + std::mem::size_of::<Self>() + 2 * std::mem::size_of::<usize>()
    }
}

/// What a hub broadcasts.
#[derive(Debug, Clone)]
pub enum HubMessage {
    /// A new event.
    Event(Arc<CallEvent>),
    /// The call ended at this time (epoch ms); no more events.
    Closed(i64),
}

#[derive(Debug, Default)]
struct HubLog {
    events: Vec<Arc<CallEvent>>,
    closed: Option<i64>,
}

/// Slots of a call's live channel. Small on purpose: every call keeps its
/// hub for as long as it is stored, and a subscriber that falls behind
/// loses nothing, because it catches up from the log ([`CallHub::since`]).
const HUB_CAPACITY: usize = 16;

/// A call's event log and live fan-out.
#[derive(Debug)]
pub struct CallHub {
    log: Mutex<HubLog>,
    tx: broadcast::Sender<HubMessage>,
}

/// A hub subscription: the replay, whether the call had ended, and the
/// live receiver.
#[derive(Debug)]
pub struct Subscription {
    /// Every event so far, in order.
    pub replay: Vec<Arc<CallEvent>>,
    /// When the call ended (epoch ms), if it had when subscribing.
    pub closed: Option<i64>,
    /// Later events.
    pub rx: broadcast::Receiver<HubMessage>,
}

impl Default for CallHub {
    fn default() -> Self {
        Self::new()
    }
}

impl CallHub {
    /// An empty hub.
    pub fn new() -> Self {
        Self { log: Mutex::new(HubLog::default()), tx: broadcast::channel(HUB_CAPACITY).0 }
    }

    /// A hub holding `events` (JSON objects, in order) as a restored
    /// call's log, closed at `closed` if the call's stream had ended.
    pub fn restored(events: Vec<Value>, closed: Option<i64>) -> Self {
        let events = (1..).zip(events).map(|(seq, value)| Arc::new(CallEvent::new(seq, &value))).collect();
        Self { log: Mutex::new(HubLog { events, closed }), tx: broadcast::channel(HUB_CAPACITY).0 }
    }

    /// When the call's stream closed (epoch ms), if it has.
    pub fn closed_at(&self) -> Option<i64> {
        self.log.lock().closed
    }

    /// Appends the event `make(seq)` builds (a JSON object) and
    /// broadcasts it.
    pub fn publish(&self, make: impl FnOnce(u64) -> Value) -> Arc<CallEvent> {
        let mut log = self.log.lock();
        let seq = log.events.len() as u64 + 1;
        let event = Arc::new(CallEvent::new(seq, &make(seq)));
        log.events.push(Arc::clone(&event));
        let _ = self.tx.send(HubMessage::Event(Arc::clone(&event)));
        event
    }

    /// Marks the call ended at `at` (epoch ms) and tells subscribers.
    pub fn close(&self, at: i64) {
        let mut log = self.log.lock();
        if log.closed.is_none() {
            log.closed = Some(at);
            let _ = self.tx.send(HubMessage::Closed(at));
        }
    }

    /// Snapshot plus live receiver, taken atomically.
    pub fn subscribe(&self) -> Subscription {
        let log = self.log.lock();
        Subscription { replay: log.events.clone(), closed: log.closed, rx: self.tx.subscribe() }
    }

    /// Events with `seq > after`, for subscribers that lagged, and the
    /// end time if the call ended.
    pub fn since(&self, after: u64) -> (Vec<Arc<CallEvent>>, Option<i64>) {
        let log = self.log.lock();
        let start = usize::try_from(after).unwrap_or(usize::MAX).min(log.events.len());
        (log.events[start..].to_vec(), log.closed)
    }

    /// Every event so far (for the call log).
    pub fn events(&self) -> Vec<Arc<CallEvent>> {
        self.log.lock().events.clone()
    }

    /// Approximate bytes the hub holds: its events, the log and the live
    /// channel's slots.
    pub fn bytes(&self) -> usize {
        let log = self.log.lock();
        let events: usize = log.events.iter().map(|e| e.bytes()).sum();
        events + std::mem::size_of::<Self>() + HUB_CAPACITY * 4 * std::mem::size_of::<usize>()
    }
}

/// The three webhook-visible milestones of a call (BEHAVIOR R148). Each
/// is the webhook event of the same name (`EventType::from`, whose
/// `as_str` is the wire `eventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    /// The call connected; the agent has not spoken yet.
    PreConversation,
    /// The call ended.
    PostConversation,
    /// Post-call analytics are ready.
    AnalyticsCompleted,
}

/// A milestone of one call, with the call as it was at that moment.
#[derive(Debug)]
pub struct Lifecycle {
    /// Position on the bus, from 1.
    pub seq: u64,
    /// Which milestone.
    pub milestone: Milestone,
    /// The organization's API key.
    pub api_key: Arc<str>,
    /// The call record snapshot.
    pub call: Arc<crate::call::Call>,
}

const REPLAY: usize = 4096;

#[derive(Debug, Default)]
struct BusLog {
    next: u64,
    recent: VecDeque<Arc<Lifecycle>>,
}

/// Sequence-numbered call milestones with a bounded replay log.
#[derive(Debug)]
pub struct LifecycleBus {
    log: Mutex<BusLog>,
    tx: broadcast::Sender<Arc<Lifecycle>>,
}

impl Default for LifecycleBus {
    fn default() -> Self {
        Self { log: Mutex::new(BusLog { next: 1, recent: VecDeque::new() }), tx: broadcast::channel(1024).0 }
    }
}

impl LifecycleBus {
    /// Publishes a milestone; returns its sequence number.
    pub fn publish(&self, milestone: Milestone, api_key: Arc<str>, call: Arc<crate::call::Call>) -> u64 {
        let mut log = self.log.lock();
        let seq = log.next;
        log.next += 1;
        let ev = Arc::new(Lifecycle { seq, milestone, api_key, call });
        if log.recent.len() == REPLAY {
            log.recent.pop_front();
        }
        log.recent.push_back(Arc::clone(&ev));
        let _ = self.tx.send(ev);
        seq
    }

    /// Events after `seq` still in the replay log, plus a live receiver,
    /// taken under one lock (no gap, no duplicate).
    pub fn subscribe_from(&self, seq: u64) -> (Vec<Arc<Lifecycle>>, broadcast::Receiver<Arc<Lifecycle>>) {
        let log = self.log.lock();
        let replay = log.recent.iter().filter(|e| e.seq > seq).cloned().collect();
        (replay, self.tx.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_get_the_replay_then_live_events_once() {
        let hub = CallHub::new();
        hub.publish(|_| serde_json::json!({"n": 1}));
        let mut sub = hub.subscribe();
        hub.publish(|_| serde_json::json!({"n": 2}));
        hub.close(5);
        assert_eq!(sub.replay.len(), 1);
        assert!(matches!(sub.rx.try_recv(), Ok(HubMessage::Event(e)) if e.seq == 2));
        assert!(matches!(sub.rx.try_recv(), Ok(HubMessage::Closed(5))));
        assert_eq!(&hub.events()[1].frame[..], b"data: {\"n\":2}\n\n");
        assert_eq!(hub.events()[1].value(), serde_json::json!({"n": 2}));
        assert_eq!(hub.since(1).0.len(), 1);
    }
}
