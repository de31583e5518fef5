//! Calls: placing them, running their scenario on the clock, and ending
//! them (BEHAVIOR R102–R121).
//!
//! - [`place`]: the one way a call comes to exist. [`Calls::place`] checks
//!   the agent may call (R036, R104), picks the scenario and creates the
//!   record; the HTTP routes and the campaign dialler use it, and realtime
//!   sessions use its two halves ([`Calls::prepare`] at the handshake,
//!   [`Calls::start_live`] once the socket is up). Retries (R121) go
//!   through the same creation step.
//! - `dispatch`: a call is created `pending` and dispatched by a clock
//!   action: an outbound call to a number on the Do-Not-Call list ends
//!   `failed` without dialling (`crate::domain::dnc`); otherwise, with a
//!   free concurrency slot it goes `in_progress` (telephony calls ring
//!   first; web sessions connect at once), else it waits `in_queue` (R108)
//!   until a slot frees, in order.
//! - `concurrency`: the organization's limit and per-agent reservations
//!   (`domain::concurrency::Slots` in the call book decides who holds a
//!   slot; CONC). Once connected, its
//!   scenario's compiled timeline is scheduled on the clock, one action per
//!   instant; each action publishes events to the call's hub and updates
//!   the record, so the SSE stream, the call log and the webhooks read one
//!   history. Milestones go to the [`LifecycleBus`]. Analytics follow the
//!   end by the scenario's delay (R122). Each change of status is
//!   reported to the organization's analytics index (`track`).
//! - `live` ([`LiveCall`]): calls driven by a realtime session instead of a timeline.
//! - [`query`], [`render`], [`caller_id`]: the call-log query, wire
//!   shapes, and caller-ID selection (pure).
//!
//! The records live in the organization's [`CallBook`] (`crate::store`);
//! the engine's clock actions hold that book, never the whole tenant.
//! Locks: the call book, then a hub, then the bus; never the other way
//! round. No lock is held across `.await`.

use std::sync::{Arc, Weak};

use dashmap::DashMap;
use parking_lot::RwLock;
use serde_json::{json, Map, Value};

use crate::clock::Clock;
use crate::domain::time::iso;
use crate::domain::Millis;
use crate::events::{CallHub, LifecycleBus};
use crate::scenarios::timeline::{self, CallContext};
use crate::scenarios::Library;
use crate::store::{CallBook, Store};

pub mod caller_id;
mod concurrency;
mod dispatch;
#[cfg(test)]
mod list_props;
mod live;
pub mod place;
pub mod query;
pub mod render;
mod retention;

pub use crate::call::{analytics, variables, Call, CallType, Line, NewCall};
pub use live::{CallEnded, LiveCall};
pub use place::{retry_refusal, CallLink, CallRequest, Pin};

/// Called for every call that ends, with the organization's call book and
/// the final record. Runs as its own clock action at the end time (never
/// under the call book's lock), so it may lock other state and place calls.
pub type FinishHook = Arc<dyn Fn(&Arc<CallBook>, &Arc<Call>) + Send + Sync>;

/// The finish hook that bills every call on its organization's ledger,
/// once per `callId` (`Store::charge_call`: `-callCost` when it connected).
fn billing_hook(store: &Arc<Store>) -> FinishHook {
    let store = Arc::clone(store);
    Arc::new(move |book, call| {
        store.charge_call(book, call);
    })
}

/// The call engine, shared by every handler.
pub struct Calls {
    store: Arc<Store>,
    library: Arc<Library>,
    bus: Arc<LifecycleBus>,
    public_url: RwLock<String>,
    finish_hooks: RwLock<Vec<FinishHook>>,
    /// Which organization placed each call: the unauthenticated recording
    /// route needs it. Weak, so a reset organization is not kept alive;
    /// sharded, so lookups never contend with other organizations' books.
    owners: DashMap<String, Weak<CallBook>>,
    /// The byte budget of ended calls (`retention`).
    budget: retention::Budget,
    /// The byte budget of evicted calls' analytics rows (`retention`).
    rows: retention::RowBudget,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calls").field("public_url", &*self.public_url.read()).finish_non_exhaustive()
    }
}

type BookRef = Arc<CallBook>;

impl Calls {
    /// A call engine over `store` (agents, ids, clock, and each new
    /// organization's concurrency limit), running `library`'s scenarios and
    /// publishing milestones on `bus`.
    pub fn new(store: Arc<Store>, library: Arc<Library>, bus: Arc<LifecycleBus>) -> Self {
        Self {
            finish_hooks: RwLock::new(vec![billing_hook(&store)]),
            store,
            library,
            bus,
            public_url: RwLock::new("http://127.0.0.1:4010".into()),
            owners: DashMap::new(),
            budget: parking_lot::Mutex::new(crate::domain::call_budget::CallBudget::new(
                crate::domain::call_budget::DEFAULT_BUDGET,
            )),
            rows: parking_lot::Mutex::new(crate::domain::call_budget::CallBudget::new(
                crate::domain::call_budget::DEFAULT_ANALYTICS_BUDGET,
            )),
        }
    }

    /// Registers a hook run after every call ends (see [`FinishHook`]).
    pub fn on_finish(&self, hook: FinishHook) {
        self.finish_hooks.write().push(hook);
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        self.store.clock()
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

    /// The call book that holds `call_id`, if its organization still has
    /// the call (a reset forgets it).
    pub fn owner(&self, call_id: &str) -> Option<Arc<CallBook>> {
        let book = self.owners.get(call_id)?.upgrade()?;
        book.contains(call_id).then_some(book)
    }
}

/// The analytics hook: reports `call` as it is now to its organization's
/// analytics index (`/analytics/*`; see `crate::store::analytics`).
/// Called under the call book's lock right after each change the figures
/// read: creation (`pending`), dispatch (`in_queue` or `in_progress`), a
/// live call's start, and the end (terminal status, end time, `callCost`).
fn track(book: &CallBook, call: &Call) {
    book.analytics().record(call);
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
/// smart turn detection and the resolved variables; no knowledge-base
/// sources (the dispatcher adds them at connect, see `compile`).
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
    CallContext {
        first_message: first,
        variables: &call.variables,
        llm_model: llm,
        tts_model: tts,
        smart_turn: smart,
        knowledge: &[],
    }
}

/// Compiles `call`'s scenario as it connects. A scenario that answers from
/// the knowledge base reads the processed sources of the knowledge bases
/// the call's config attaches, as they are at that moment (`book`'s
/// organization's knowledge book, locked after the call book).
fn compile(store: &Store, book: &CallBook, call: &Call) -> timeline::Timeline {
    if !call.scenario.answers_from_knowledge() {
        return timeline::compile(&call.scenario, &context(call));
    }
    let tenant = store.find_tenant(book.api_key());
    let knowledge = tenant.as_ref().map(|t| t.knowledge());
    let sources = knowledge.as_ref().map(|k| k.sources(&call.config)).unwrap_or_default();
    timeline::compile(&call.scenario, &CallContext { knowledge: &sources, ..context(call) })
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
