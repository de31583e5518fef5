//! The call book: one organization's calls, their event hubs and their
//! concurrency slots (BEHAVIOR R108–R121; the Concurrency guide, CONC).
//!
//! [`CallBook`] is the handle: the organization's key, a [`CallTable`]
//! behind a `Mutex`, and the organization's Do-Not-Call list (shared with
//! the tenant, locked after the table). The call engine (`crate::calls`)
//! keeps an `Arc` of it in every clock action of a call, so it never needs
//! the whole tenant. Reads for the HTTP layer are methods on the handle;
//! the engine locks the table and changes it through the table's methods.
//!
//! Invariants of a table:
//! - `order` lists every call once, in creation order;
//! - `slots` ([`Slots`]) holds the calls with a concurrency slot
//!   (`in_progress` ones) and the ones waiting for one (`in_queue`), in
//!   arrival order: the limit (the plan's concurrent calls), the per-agent
//!   reservations and who starts when a slot frees are its rules;
//! - a retry family shares one root, and every member's `retryCount` is
//!   the family's size (R121);
//! - `roots` (`roots::RootIndex`) files every root call by `updatedAt`
//!   for `GET /conversation`'s default list ([`CallBook::roots_page`]);
//!   calls change only through [`CallTable::entry_mut`], which keeps it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AnalyticsBook;
use crate::call::Call;
use crate::domain::concurrency::{Admission, Reservations, SlotKey, Slots};
use crate::domain::dnc::DncList;
use crate::domain::page::Page;
use crate::domain::Millis;
use crate::events::CallHub;
use crate::scenarios::Scenario;

mod roots;

/// One organization's calls: its key, the locked table and the
/// organization's analytics index, which the engine reports calls to, and
/// its Do-Not-Call list.
#[derive(Debug)]
pub struct CallBook {
    api_key: Arc<str>,
    table: Mutex<CallTable>,
    analytics: Arc<AnalyticsBook>,
    dnc: Arc<Mutex<DncList>>,
}

#[derive(Debug)]
struct Entry {
    call: Call,
    hub: Arc<CallHub>,
    /// Driven by a realtime session rather than a scripted timeline.
    live: bool,
    /// Creation order ([`roots::RootIndex`]).
    seq: u64,
}

/// The calls of one organization, by call id, with their slots.
#[derive(Debug)]
pub struct CallTable {
    calls: HashMap<String, Entry>,
    order: Vec<String>,
    slots: Slots,
    roots: roots::RootIndex,
}

/// One page of `GET /conversation`'s default list ([`CallBook::roots_page`]).
#[derive(Debug)]
pub struct RootsPage {
    /// The page's calls, in list order.
    pub calls: Vec<Call>,
    /// Root calls over all pages.
    pub total: usize,
    /// The disposition metric definitions (`[{identifier, type}]`) of the
    /// root calls, one list per distinct config, first carried first.
    pub configs: Vec<Vec<Value>>,
}

impl CallBook {
    /// An empty book for the organization of `api_key`, whose calls share
    /// `limit` concurrency slots (at least 1), are checked against `dnc`
    /// and are reported to `analytics`.
    pub fn new(api_key: Arc<str>, limit: u32, dnc: Arc<Mutex<DncList>>, analytics: Arc<AnalyticsBook>) -> Self {
        let table = CallTable::new(Slots::new(limit));
        Self { api_key, table: Mutex::new(table), dnc, analytics }
    }

    /// The organization's analytics index (the same as
    /// [`super::Tenant::analytics`]): the call engine reports every change
    /// of a call to it while it holds this book's lock.
    pub fn analytics(&self) -> &AnalyticsBook {
        &self.analytics
    }

    /// The organization's API key (milestones carry it to the webhooks).
    pub fn api_key(&self) -> &Arc<str> {
        &self.api_key
    }

    /// Locks the table. Hold it only for a few synchronous steps, never
    /// across `.await`; take it after the campaign book and the agents,
    /// never before (see the store's lock order).
    pub fn lock(&self) -> MutexGuard<'_, CallTable> {
        self.table.lock()
    }

    /// Locks the organization's Do-Not-Call list: after the table when
    /// both are held (the engine checks and adds numbers under the table's
    /// lock, so a call's admission and the list never disagree).
    pub fn dnc(&self) -> MutexGuard<'_, DncList> {
        self.dnc.lock()
    }

    /// One call and its event hub.
    pub fn get(&self, call_id: &str) -> Option<(Call, Arc<CallHub>)> {
        self.lock().calls.get(call_id).map(|e| (e.call.clone(), Arc::clone(&e.hub)))
    }

    /// Whether the book has `call_id` (a reset forgets every call).
    pub fn contains(&self, call_id: &str) -> bool {
        self.lock().calls.contains_key(call_id)
    }

    /// Every call passing `keep`, in creation order.
    pub fn list(&self, keep: impl Fn(&Call) -> bool) -> Vec<Call> {
        let t = self.lock();
        t.order.iter().filter_map(|id| t.calls.get(id)).map(|e| &e.call).filter(|c| keep(c)).cloned().collect()
    }

    /// Page `page` of the root calls (not retries) by `updatedAt`, latest
    /// first unless `ascending`, ties in creation order (newest first when
    /// descending): `GET /conversation` with no filter (R111, the default
    /// `callAttemptFilter=initial`, `sortBy=updatedAt`). O(log n + skip +
    /// page) under the lock; the same calls, total and metric definitions
    /// a full scan gives.
    pub fn roots_page(&self, ascending: bool, page: Page) -> RootsPage {
        let mut t = self.lock();
        t.settle();
        let (ids, total) = t.roots.page(ascending, page);
        let calls = ids.filter_map(|id| t.calls.get(id)).map(|e| e.call.clone()).collect();
        RootsPage { calls, total, configs: t.roots.configs() }
    }

    /// The retry family of `call_id`: root first, then attempts (R117).
    pub fn family(&self, call_id: &str) -> Option<Vec<Call>> {
        let t = self.lock();
        let c = &t.calls.get(call_id)?.call;
        let root = c.root_call_id.clone().unwrap_or_else(|| c.call_id.clone());
        let mut fam: Vec<Call> = t
            .order
            .iter()
            .filter_map(|id| t.calls.get(id))
            .map(|e| &e.call)
            .filter(|x| x.call_id == root || x.root_call_id.as_deref() == Some(root.as_str()))
            .cloned()
            .collect();
        fam.sort_by_key(|x| x.retry_attempt_number);
        Some(fam)
    }

    /// True when a call is not yet ended (pending, queued or in progress).
    pub fn has_unfinished(&self) -> bool {
        self.lock().calls.values().any(|e| !e.call.status.is_terminal())
    }

    /// Calls holding a slot and calls waiting for one (R108).
    pub fn load(&self) -> (usize, usize) {
        let t = self.lock();
        (t.slots.live_count(), t.slots.queued_count())
    }
}

/// The call book in a snapshot: every call with its event log, the
/// scenarios they run (each once, by name), the organization's limit and
/// its per-agent reservations.
/// No call in it is running or queued: [`CallBook::snapshot`] records
/// those as interrupted ([`Call::interrupt`]).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CallsSnapshot {
    /// The organization's concurrency limit (R108); the server's
    /// `--concurrency-limit` when absent.
    pub limit: Option<u32>,
    /// Per-agent reservations (`PUT /concurrency/reservations`), by agent id.
    pub reservations: Reservations,
    /// Every call, oldest first.
    pub calls: Vec<CallEntry>,
    /// The scenarios the calls run, by name.
    pub scenarios: BTreeMap<String, Scenario>,
}

/// One call of a [`CallsSnapshot`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallEntry {
    /// The record.
    pub record: Call,
    /// Its events (call log and SSE replay), in order.
    #[serde(default)]
    pub events: Vec<Value>,
    /// When its event stream closed (epoch ms); `None` for a call the
    /// snapshot interrupted, whose `call_end` the restore publishes.
    #[serde(default)]
    pub closed_at: Option<Millis>,
}

impl CallBook {
    /// The book as a snapshot at `now` (epoch ms), taken under its lock;
    /// calls not yet ended are recorded as interrupted at `now`.
    pub fn snapshot(&self, now: Millis) -> CallsSnapshot {
        let t = self.lock();
        let mut scenarios = BTreeMap::new();
        let calls = t
            .order
            .iter()
            .filter_map(|id| t.calls.get(id))
            .map(|e| {
                let mut record = e.call.clone();
                record.interrupt(now);
                scenarios.entry(record.scenario.name.clone()).or_insert_with(|| (*record.scenario).clone());
                let events = e.hub.events().iter().map(|ev| ev.value()).collect();
                CallEntry { record, events, closed_at: e.hub.closed_at() }
            })
            .collect();
        let reservations = t.slots.reservations().clone();
        CallsSnapshot { limit: Some(t.slots.limit()), reservations, calls, scenarios }
    }

    /// The book of `api_key`'s organization holding `snap`'s calls, none
    /// running or queued, with `limit` slots unless the snapshot names its
    /// own, checked against `dnc` and reported to `analytics` (which the
    /// engine refills on resume). Err names a repeated call id, a call
    /// that has not ended, or a scenario the table lacks.
    pub fn restore(
        api_key: Arc<str>,
        snap: CallsSnapshot,
        limit: u32,
        dnc: Arc<Mutex<DncList>>,
        analytics: Arc<AnalyticsBook>,
    ) -> Result<Self, String> {
        let scenarios: HashMap<String, Arc<Scenario>> =
            snap.scenarios.into_iter().map(|(name, s)| (name, Arc::new(s))).collect();
        let mut slots = Slots::new(snap.limit.unwrap_or(limit));
        slots.set_reservations(snap.reservations);
        let mut table = CallTable::new(slots);
        for CallEntry { mut record, events, closed_at } in snap.calls {
            let id = record.call_id.clone();
            if table.calls.contains_key(&id) {
                return Err(format!("call {id} appears twice"));
            }
            if !record.status.is_terminal() {
                return Err(format!(
                    "call {id} has not ended ({}); a snapshot holds ended calls only",
                    record.status.as_str()
                ));
            }
            let name = &record.scenario.name;
            record.scenario = Arc::clone(
                scenarios
                    .get(name)
                    .ok_or_else(|| format!("call {id} runs scenario '{name}', which is not in calls.scenarios"))?,
            );
            let hub = Arc::new(CallHub::restored(events, closed_at));
            let seq = table.roots.add(&record);
            table.order.push(id.clone());
            table.calls.insert(id, Entry { call: record, hub, live: false, seq });
        }
        Ok(Self { api_key, table: Mutex::new(table), dnc, analytics })
    }

    /// Calls that ended without their stream closing: the ones a snapshot
    /// interrupted, whose end the engine has yet to publish.
    pub fn unclosed(&self) -> Vec<Call> {
        let t = self.lock();
        t.order
            .iter()
            .filter_map(|id| t.calls.get(id))
            .filter(|e| e.hub.closed_at().is_none())
            .map(|e| e.call.clone())
            .collect()
    }
}

impl CallTable {
    fn new(slots: Slots) -> Self {
        Self { calls: HashMap::new(), order: Vec::new(), slots, roots: roots::RootIndex::default() }
    }

    /// Files the call last handed out by [`CallTable::entry_mut`] under
    /// its `updatedAt` now; every `&mut` use of the table starts here.
    fn settle(&mut self) {
        let calls = &self.calls;
        self.roots.settle(|id| calls.get(id).map(|e| e.call.updated_at));
    }

    /// Stores a new call with its hub. With `retry_of`, links it into the
    /// parent's retry family first (R121): the parent's `retryCallId`
    /// points at it and every member's `retryCount` grows. `live` marks a
    /// call a realtime session drives. Returns the call as stored.
    pub fn insert(&mut self, mut call: Call, hub: Arc<CallHub>, retry_of: Option<&str>, live: bool) -> Call {
        self.settle();
        if let Some(parent_id) = retry_of {
            self.link_retry(parent_id, &mut call);
        }
        let seq = self.roots.add(&call);
        self.order.push(call.call_id.clone());
        self.calls.insert(call.call_id.clone(), Entry { call: call.clone(), hub, live, seq });
        call
    }

    fn link_retry(&mut self, parent_id: &str, call: &mut Call) {
        let Some(parent) = self.calls.get_mut(parent_id).map(|e| &mut e.call) else { return };
        parent.retry_call_id = Some(call.call_id.clone());
        let root = parent.root_call_id.clone().unwrap_or_else(|| parent.call_id.clone());
        call.root_call_id = Some(root.clone());
        call.retry_attempt_number = parent.retry_attempt_number + 1;
        call.retry_count = call.retry_attempt_number + 1;
        for e in self.calls.values_mut() {
            if e.call.call_id == root || e.call.root_call_id.as_deref() == Some(root.as_str()) {
                e.call.retry_count = call.retry_count;
            }
        }
    }

    /// Forgets ended call `call_id` with its event log (an eviction under
    /// the call-store budget, `domain::call_budget` CB4). Its id leaves
    /// `order` lazily: readers skip ids the table no longer has, and the
    /// list is compacted once half of it is such ids. `false` when the
    /// call is unknown or has not ended (CB1).
    pub fn evict(&mut self, call_id: &str) -> bool {
        if !self.calls.get(call_id).is_some_and(|e| e.call.status.is_terminal()) {
            return false;
        }
        self.settle();
        if let Some(e) = self.calls.remove(call_id) {
            self.roots.remove(&e.call, e.seq);
        }
        if self.order.len() >= 64 && self.calls.len() < self.order.len() / 2 {
            let calls = &self.calls;
            self.order.retain(|id| calls.contains_key(id));
        }
        true
    }

    /// Approximate bytes `call_id` holds in the table, its event log
    /// included (`domain::call_budget` CB2); 0 for an unknown call.
    pub fn bytes(&self, call_id: &str) -> usize {
        self.calls.get(call_id).map_or(0, |e| e.call.bytes() + e.hub.bytes() + 2 * call_id.len() + 64)
    }

    /// One call.
    pub fn call(&self, call_id: &str) -> Option<&Call> {
        self.calls.get(call_id).map(|e| &e.call)
    }

    /// One call and its hub, to change the call and publish its events.
    /// The only way to change a stored call: the list order follows its
    /// `updatedAt` from the table's next use on (`roots::RootIndex`).
    /// Its `retryAttemptNumber` and config stay as stored.
    pub fn entry_mut(&mut self, call_id: &str) -> Option<(&mut Call, &Arc<CallHub>)> {
        self.settle();
        let e = self.calls.get_mut(call_id)?;
        self.roots.touch(&e.call, e.seq);
        Some((&mut e.call, &e.hub))
    }

    /// True when a realtime session drives `call_id`.
    pub fn is_live(&self, call_id: &str) -> bool {
        self.calls.get(call_id).is_some_and(|e| e.live)
    }

    /// The slot allocator (read only: the engine changes it through the
    /// methods below).
    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// `call_id` asks for a slot under its agent and channel
    /// ([`Slots::admit`]): it holds one now, or waits behind the calls
    /// already waiting. `None` for an unknown call.
    pub fn admit(&mut self, call_id: &str) -> Option<Admission> {
        let call = &self.calls.get(call_id)?.call;
        let key = SlotKey { agent_id: call.agent_id.clone(), channel: call.channel() };
        Some(self.slots.admit(call_id, key))
    }

    /// `call_id` ended (or gave up waiting): it leaves its slot or its
    /// place in the queue. Returns the waiting calls that now hold a slot,
    /// in order; the engine starts them.
    pub fn release(&mut self, call_id: &str) -> Vec<String> {
        self.slots.release(call_id)
    }

    /// The concurrency limit (the plan's concurrent calls).
    pub fn limit(&self) -> u32 {
        self.slots.limit()
    }

    /// Sets the concurrency limit (at least 1). Returns the waiting calls
    /// that now hold a slot, in order.
    pub fn set_limit(&mut self, limit: u32) -> Vec<String> {
        self.slots.set_limit(limit)
    }

    /// The per-agent reservations.
    pub fn reservations(&self) -> &Reservations {
        self.slots.reservations()
    }

    /// Replaces the reservations (checked by
    /// `domain::concurrency::apply_update`). Returns the waiting calls that
    /// now hold a slot, in order.
    pub fn set_reservations(&mut self, reservations: Reservations) -> Vec<String> {
        self.slots.set_reservations(reservations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::NewCall;
    use crate::domain::concurrency::Reservation;

    fn call(id: &str, agent: &str) -> Call {
        Call::new(NewCall::sample(agent), id.into(), id.into(), 0)
    }

    fn table(limit: u32, ids: &[(&str, &str)]) -> CallTable {
        let mut t = CallTable::new(Slots::new(limit));
        for (id, agent) in ids {
            t.insert(call(id, agent), Arc::new(CallHub::new()), None, false);
        }
        t
    }

    /// R108: with one slot, the second call waits; when the first ends its
    /// slot goes to the call that waited first, and a later arrival does
    /// not jump the queue.
    #[test]
    fn slots_go_to_queued_calls_in_order() {
        let mut t = table(1, &[("a", "x"), ("b", "x"), ("c", "x")]);
        assert_eq!(t.admit("a"), Some(Admission::Started));
        assert_eq!(t.admit("b"), Some(Admission::Queued));
        assert_eq!(t.admit("c"), Some(Admission::Queued));
        assert_eq!(t.release("a"), vec!["b".to_string()], "b waited first");
        assert_eq!(t.release("c"), Vec::<String>::new(), "a queued call that ends frees nothing");
        assert_eq!((t.slots.live_count(), t.slots.queued_count()), (1, 0));
        assert_eq!(t.admit("zz"), None, "an unknown call asks for nothing");
    }

    /// CONC: a call of an agent with a free reserved slot starts although
    /// the shared pool is full and others wait.
    #[test]
    fn a_reserved_agent_takes_its_own_slot_past_the_queue() {
        let mut t = table(2, &[("a", "x"), ("b", "x"), ("r", "y")]);
        t.set_reservations(Reservations::from([("y".to_string(), Reservation { outbound: 1, ..Default::default() })]));
        assert_eq!(t.admit("a"), Some(Admission::Started));
        assert_eq!(t.admit("b"), Some(Admission::Queued), "the one shared slot is taken");
        assert_eq!(t.admit("r"), Some(Admission::Started), "y's reserved slot is free");
    }
}
