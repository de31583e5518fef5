//! Calls: placing them, running their scenario on the clock, and the
//! per-organization call book.
//!
//! A call is created `pending` and dispatched by a clock action: with a
//! free concurrency slot it goes `in_progress` (telephony calls ring first;
//! web sessions connect at once), otherwise it waits `in_queue` (R108)
//! until a slot frees, in order. Once connected, its scenario's compiled
//! timeline is scheduled on the clock, one action per instant; each action
//! publishes events to the call's [`CallHub`] and updates the record, so
//! the SSE stream, the call log and the webhooks read one history.
//! Milestones go to the [`LifecycleBus`]. Analytics follow the end by the
//! scenario's delay (R122).
//!
//! Locks: the tenant's call book, then a hub, then the bus; never the
//! other way round. No lock is held across `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use dashmap::DashMap;
use parking_lot::RwLock;
use serde_json::{json, Map, Value};

use crate::clock::Clock;
use crate::domain::call::{transition, CallCommand, CallStatus};
use crate::domain::time::iso;
use crate::domain::{DomainError, Millis};
use crate::events::{CallHub, LifecycleBus, Milestone};
use crate::scenarios::timeline::{self, CallContext, Item};
use crate::scenarios::{Library, Outcome};
use crate::store::Tenant;

pub mod analytics;
pub mod caller_id;
mod live;
pub mod query;
mod reads;
mod record;
pub mod render;
pub mod variables;

pub use live::{CallEnded, LiveCall};
use reads::link_retry;
pub use reads::retry_refusal;
use record::record;
pub use record::{Call, CallType, Line, NewCall};

/// Default concurrent calls per organization (`--concurrency-limit`).
pub const DEFAULT_CONCURRENCY: usize = 10;

#[derive(Debug)]
struct Entry {
    call: Call,
    hub: Arc<CallHub>,
}

/// One organization's calls.
#[derive(Debug, Default)]
pub struct CallBook {
    calls: HashMap<String, Entry>,
    order: Vec<String>,
    queue: VecDeque<String>,
    running: usize,
    limit: Option<usize>,
}

/// Called for every call that ends, with the organization and the final
/// record. Runs as its own clock action at the end time (never under the
/// call book's lock), so it may lock other state and place calls.
pub type FinishHook = Arc<dyn Fn(&Arc<Tenant>, &Arc<Call>) + Send + Sync>;

/// The call engine, shared by every handler.
pub struct Calls {
    clock: Clock,
    library: Arc<Library>,
    bus: Arc<LifecycleBus>,
    public_url: RwLock<String>,
    default_limit: AtomicUsize,
    finish_hooks: RwLock<Vec<FinishHook>>,
    /// Which organization placed each call: the unauthenticated recording
    /// route and the cross-organization 403 of R117 need it. Weak, so a
    /// reset organization is not kept alive; sharded, so lookups never
    /// contend with other organizations' call books.
    owners: DashMap<String, Weak<Tenant>>,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calls").field("public_url", &*self.public_url.read()).finish_non_exhaustive()
    }
}

type TenantRef = Arc<Tenant>;

impl Calls {
    /// A call engine on `clock`.
    pub fn new(clock: Clock, library: Arc<Library>, bus: Arc<LifecycleBus>, default_limit: usize) -> Self {
        Self {
            clock,
            library,
            bus,
            public_url: RwLock::new("http://127.0.0.1:4010".into()),
            default_limit: AtomicUsize::new(default_limit.max(1)),
            finish_hooks: RwLock::new(Vec::new()),
            owners: DashMap::new(),
        }
    }

    /// Registers a hook run after every call ends (see [`FinishHook`]).
    pub fn on_finish(&self, hook: FinishHook) {
        self.finish_hooks.write().push(hook);
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The scenario library.
    pub fn library(&self) -> &Arc<Library> {
        &self.library
    }

    /// The milestone bus.
    pub fn bus(&self) -> &Arc<LifecycleBus> {
        &self.bus
    }

    /// Sets the URL the server is reachable at (for recording URLs).
    pub fn set_public_url(&self, url: String) {
        *self.public_url.write() = url;
    }

    /// `http://HOST:PORT` of the server.
    pub fn public_url(&self) -> String {
        self.public_url.read().clone()
    }

    /// The concurrency limit of `t` (R108).
    pub fn limit(&self, t: &Tenant) -> usize {
        t.calls.lock().limit.unwrap_or_else(|| self.default_limit.load(Ordering::Relaxed))
    }

    /// Sets the concurrency limit of `t` (≥ 1) and dispatches queued calls
    /// that now fit.
    pub fn set_limit(self: &Arc<Self>, t: &TenantRef, limit: usize) {
        let waiting: Vec<String> = {
            let mut book = t.calls.lock();
            book.limit = Some(limit.max(1));
            book.queue.iter().cloned().collect()
        };
        let now = self.clock.now();
        for id in waiting {
            self.schedule_dispatch(t, id, now);
        }
    }

    /// Creates a call and schedules its dispatch. Returns the record.
    pub fn place(self: &Arc<Self>, t: &TenantRef, new: NewCall, record_id: String, call_id: String) -> Call {
        let now = self.clock.now();
        let retry_of = new.retry_of.clone();
        let mut call = record(new, record_id, call_id.clone(), now);
        {
            let mut book = t.calls.lock();
            if let Some(parent_id) = retry_of.as_deref() {
                link_retry(&mut book, parent_id, &mut call);
            }
            book.order.push(call_id.clone());
            book.calls.insert(call_id.clone(), Entry { call: call.clone(), hub: Arc::new(CallHub::new()) });
        }
        self.owners.insert(call_id.clone(), Arc::downgrade(t));
        self.schedule_dispatch(t, call_id, now);
        call
    }

    fn schedule_dispatch(self: &Arc<Self>, t: &TenantRef, call_id: String, at: Millis) {
        let (me, t) = (Arc::clone(self), Arc::clone(t));
        self.clock.schedule(at, move || me.dispatch(&t, &call_id, at));
    }

    fn dispatch(self: &Arc<Self>, t: &TenantRef, call_id: &str, at: Millis) {
        let limit = self.limit(t);
        let mut book = t.calls.lock();
        let free = book.running < limit;
        let queued_ahead = book.queue.front().is_some_and(|q| q != call_id);
        let Some(e) = book.calls.get_mut(call_id) else { return };
        let cmd = if free && !queued_ahead { CallCommand::Start } else { CallCommand::Queue };
        let Ok(next) = transition(e.call.status, cmd, call_id) else { return };
        e.call.status = next;
        e.call.updated_at = at;
        if next == CallStatus::InQueue {
            book.queue.push_back(call_id.to_string());
            return;
        }
        e.call.started_at = Some(at);
        let ring = if e.call.call_type == CallType::Webcall {
            0
        } else {
            (e.call.scenario.ring_seconds * 1000.0).round() as i64
        };
        book.queue.retain(|q| q != call_id);
        book.running += 1;
        drop(book);
        let (me, t2, id) = (Arc::clone(self), Arc::clone(t), call_id.to_string());
        self.clock.schedule(at + ring, move || me.ring_end(&t2, &id, at + ring));
    }

    fn ring_end(self: &Arc<Self>, t: &TenantRef, call_id: &str, at: Millis) {
        let mut book = t.calls.lock();
        let Some(e) = book.calls.get_mut(call_id) else { return };
        if e.call.status != CallStatus::InProgress {
            return;
        }
        let outcome = e.call.scenario.outcome;
        let end = match outcome {
            Outcome::NoAnswer => Some((CallStatus::NoAnswer, "dial_no_answer", Some("No answer"))),
            Outcome::Busy => Some((CallStatus::Failed, "connection_error", Some("busy"))),
            Outcome::Failed => Some((CallStatus::Failed, "connection_error", Some("Failed to connect"))),
            Outcome::Completed | Outcome::Cancelled => None,
        };
        if let Some((status, reason, failure)) = end {
            self.finish(t, &mut book, call_id, status, reason, failure, at);
            return;
        }
        e.call.connected_at = Some(at);
        e.call.updated_at = at;
        publish(&e.hub, &e.call.call_id, at, "call_start", call_start_fields(&e.call));
        let snapshot = Arc::new(e.call.clone());
        let tl = compile(&e.call);
        e.call.transitions.clone_from(&tl.transitions);
        drop(book);
        self.bus.publish(Milestone::PreConversation, Arc::clone(&t.api_key), snapshot);
        let mut groups: Vec<(u64, Vec<Item>)> = Vec::new();
        for (off, item) in tl.items {
            match groups.last_mut() {
                Some((o, v)) if *o == off => v.push(item),
                _ => groups.push((off, vec![item])),
            }
        }
        for (off, items) in groups {
            let (me, t2, id) = (Arc::clone(self), Arc::clone(t), call_id.to_string());
            let when = at + i64::try_from(off).unwrap_or(0);
            self.clock.schedule(when, move || me.run_items(&t2, &id, when, items));
        }
        let (me, t2, id) = (Arc::clone(self), Arc::clone(t), call_id.to_string());
        let when = at + i64::try_from(tl.end_ms).unwrap_or(0);
        self.clock.schedule(when, move || {
            let mut book = t2.calls.lock();
            let status = match outcome {
                Outcome::Cancelled => CallStatus::Cancelled,
                _ => CallStatus::Completed,
            };
            let reason = book
                .calls
                .get(&id)
                .and_then(|e| e.call.scenario.disconnect_reason.clone())
                .unwrap_or_else(|| "user_hangup".into());
            me.finish(&t2, &mut book, &id, status, &reason, None, when);
        });
    }

    fn run_items(&self, t: &TenantRef, call_id: &str, at: Millis, items: Vec<Item>) {
        let mut book = t.calls.lock();
        let Some(e) = book.calls.get_mut(call_id) else { return };
        if e.call.status != CallStatus::InProgress {
            return;
        }
        for item in items {
            match item {
                Item::Event(kind, fields) => publish(&e.hub, &e.call.call_id, at, kind, fields),
                Item::Transcript(role, content, start) => {
                    let began = e.call.connected_at.map_or(at, |c| c + i64::try_from(start).unwrap_or(0));
                    e.call.transcript.push(Line { role, content, at: began });
                }
            }
        }
        e.call.updated_at = at;
    }

    /// Ends a call: terminal status, `call_end` (and `call_cancelled`,
    /// `call_recording`), frees the slot, dispatches the next queued
    /// call, publishes post-conversation and schedules analytics.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        self: &Arc<Self>,
        t: &TenantRef,
        book: &mut CallBook,
        call_id: &str,
        status: CallStatus,
        reason: &str,
        failure: Option<&str>,
        at: Millis,
    ) {
        let Some(e) = book.calls.get_mut(call_id) else { return };
        // The script's own end still fires after a cancel; it must not
        // end the call twice.
        if e.call.status.is_terminal() {
            return;
        }
        let was_running = e.call.status == CallStatus::InProgress;
        e.call.status = status;
        e.call.ended_at = Some(at);
        e.call.updated_at = at;
        e.call.disconnect_reason = Some(reason.to_string());
        e.call.failure_reason = failure.map(str::to_string);
        let connected = e.call.connected_at.is_some();
        e.call.cost = if connected { e.call.scenario.cost } else { 0.0 };
        if status == CallStatus::Cancelled {
            publish(
                &e.hub,
                call_id,
                at,
                "call_cancelled",
                Map::from_iter([("metadata".into(), json!({"reason": reason}))]),
            );
        }
        let meta = json!({
            "call_status": status.as_str(), "disconnect_reason": reason,
            "duration_seconds": e.call.duration_ms() as f64 / 1000.0, "call_failure_reason": failure,
        });
        publish(&e.hub, call_id, at, "call_end", Map::from_iter([("metadata".into(), meta)]));
        if e.call.recording_ms().is_some_and(|ms| ms > 0) {
            let url = recording_url(&self.public_url(), call_id);
            publish(
                &e.hub,
                call_id,
                at,
                "call_recording",
                Map::from_iter([("recording_url".into(), json!(url)), ("status".into(), json!("available"))]),
            );
        }
        e.hub.close(at);
        let snapshot = Arc::new(e.call.clone());
        let delay = (e.call.scenario.analytics.delay_seconds * 1000.0).round() as i64;
        if was_running {
            book.running = book.running.saturating_sub(1);
        }
        book.queue.retain(|q| q != call_id);
        let next = book.queue.front().cloned();
        self.bus.publish(Milestone::PostConversation, Arc::clone(&t.api_key), Arc::clone(&snapshot));
        for hook in self.finish_hooks.read().iter() {
            let (hook, t2, call) = (Arc::clone(hook), Arc::clone(t), Arc::clone(&snapshot));
            self.clock.schedule(at, move || hook(&t2, &call));
        }
        if let Some(n) = next {
            self.schedule_dispatch(t, n, at);
        }
        if connected {
            let (me, t2, id) = (Arc::clone(self), Arc::clone(t), call_id.to_string());
            self.clock.schedule(at + delay, move || me.run_analytics(&t2, &id, at + delay));
        }
    }

    fn run_analytics(&self, t: &TenantRef, call_id: &str, at: Millis) {
        let mut book = t.calls.lock();
        let Some(e) = book.calls.get_mut(call_id) else { return };
        let ended = iso(e.call.ended_at.unwrap_or(at));
        e.call.analytics = analytics::evaluate(&e.call.config, &e.call.scenario, &ended);
        e.call.analytics_at = Some(at);
        let snapshot = Arc::new(e.call.clone());
        drop(book);
        self.bus.publish(Milestone::AnalyticsCompleted, Arc::clone(&t.api_key), snapshot);
    }

    /// Cancels a call (R118 body form, or R119 path form when
    /// `queued_only`). Returns the previous status and the record.
    pub fn cancel(
        self: &Arc<Self>,
        t: &TenantRef,
        call_id: &str,
        queued_only: bool,
    ) -> Result<(CallStatus, Call), DomainError> {
        let now = self.clock.now();
        let mut book = t.calls.lock();
        let e = book.calls.get(call_id).ok_or_else(|| DomainError::NotFound("No conversation found".into()))?;
        let prev = e.call.status;
        let cmd = if queued_only { CallCommand::CancelQueued } else { CallCommand::Cancel };
        transition(prev, cmd, call_id)?;
        self.finish(t, &mut book, call_id, CallStatus::Cancelled, "user_hangup", Some("Cancelled by API"), now);
        let call = book
            .calls
            .get(call_id)
            .map(|e| e.call.clone())
            .ok_or_else(|| DomainError::NotFound("No conversation found".into()))?;
        Ok((prev, call))
    }
}

/// The fields of a call's `call_start` event: its `telephony_id` (the
/// scenario's, else derived from the call id).
fn call_start_fields(call: &Call) -> Map<String, Value> {
    let telephony_id =
        call.scenario.telephony_id.clone().unwrap_or_else(|| crate::domain::ids::derived_id(&["tel", &call.call_id]));
    [("telephony_id".to_string(), json!(telephony_id))].into_iter().collect()
}

/// What the scenario compiler needs to know about `call`: the agent's
/// `firstMessage` (default greeting when empty), the LLM and TTS models,
/// smart turn detection and the resolved variables.
pub fn context(call: &Call) -> CallContext<'_> {
    let cfg = &call.config;
    let first = cfg
        .get("firstMessage")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("Hello! How can I help you today?");
    let llm = cfg.get("slmModel").and_then(Value::as_str).unwrap_or("electron");
    let tts = cfg
        .get("synthesizer")
        .and_then(|s| s.pointer("/voiceConfig/model"))
        .and_then(Value::as_str)
        .unwrap_or("waves_lightning_v3_1");
    let smart = cfg.get("smartTurnConfig").and_then(|s| s.get("isEnabled")).and_then(Value::as_bool).unwrap_or(false);
    CallContext { first_message: first, variables: &call.variables, llm_model: llm, tts_model: tts, smart_turn: smart }
}

fn compile(call: &Call) -> timeline::Timeline {
    timeline::compile(&call.scenario, &context(call))
}

/// Publishes one SSE event with the common fields (R128): `event_type`,
/// `event_id` as `<callId>_<seq>_<epochMs>` (the events guide's format;
/// the spec's `evt_…` values are placeholders), ISO `timestamp` (the
/// spec's format, chosen over the guide's epoch floats, L-F3) and
/// `call_id`.
fn publish(hub: &CallHub, call_id: &str, at: Millis, kind: &str, fields: Map<String, Value>) {
    hub.publish(|seq| {
        let mut m = Map::with_capacity(fields.len() + 4);
        m.insert("event_type".into(), json!(kind));
        m.insert("event_id".into(), json!(format!("{call_id}_{seq}_{at}")));
        m.insert("timestamp".into(), json!(iso(at)));
        m.insert("call_id".into(), json!(call_id));
        m.extend(fields);
        Value::Object(m)
    });
}

/// The `sig` query parameter that authorizes downloading `call_id`'s
/// recording (24 hex, derived from the call id; the mock's stand-in for
/// a presigned URL's signature).
pub fn recording_sig(call_id: &str) -> String {
    crate::domain::ids::derived_id(&["recording", call_id])
}

/// Where a call's recording downloads from (served by the mock):
/// `<base>/_recordings/<callId>.wav?sig=<sig>`; the two-channel file is
/// `<callId>-dual.wav` with the same `sig`.
pub fn recording_url(base: &str, call_id: &str) -> String {
    format!("{base}/_recordings/{call_id}.wav?sig={}", recording_sig(call_id))
}
