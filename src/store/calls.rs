//! The call book: one organization's calls, their event hubs and their
//! concurrency slots (BEHAVIOR R108–R121).
//!
//! [`CallBook`] is the handle: the organization's key and a [`CallTable`]
//! behind a `Mutex`. The call engine (`crate::calls`) keeps an `Arc` of it
//! in every clock action of a call, so it never needs the whole tenant.
//! Reads for the HTTP layer are methods on the handle; the engine locks the
//! table and changes it through the table's methods.
//!
//! Invariants of a table:
//! - `order` lists every call once, in creation order;
//! - `running` counts the calls holding a concurrency slot (`in_progress`
//!   ones) and `queue` the ones waiting for a slot (`in_queue`), in order;
//! - a retry family shares one root, and every member's `retryCount` is
//!   the family's size (R121).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::call::Call;
use crate::domain::Millis;
use crate::events::CallHub;
use crate::scenarios::Scenario;

/// One organization's calls: its key and the locked table.
#[derive(Debug)]
pub struct CallBook {
    api_key: Arc<str>,
    table: Mutex<CallTable>,
}

#[derive(Debug)]
struct Entry {
    call: Call,
    hub: Arc<CallHub>,
}

/// The calls of one organization, by call id, with their slot bookkeeping.
#[derive(Debug, Default)]
pub struct CallTable {
    calls: HashMap<String, Entry>,
    order: Vec<String>,
    queue: VecDeque<String>,
    running: usize,
    limit: Option<usize>,
}

impl CallBook {
    /// An empty book for the organization of `api_key`.
    pub fn new(api_key: Arc<str>) -> Self {
        Self { api_key, table: Mutex::new(CallTable::default()) }
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

    /// Running and queued calls (R108).
    pub fn load(&self) -> (usize, usize) {
        let t = self.lock();
        (t.running, t.queue.len())
    }
}

/// The call book in a snapshot: every call with its event log, the
/// scenarios they run (each once, by name) and the organization's limit.
/// No call in it is running or queued: [`CallBook::snapshot`] records
/// those as interrupted ([`Call::interrupt`]).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CallsSnapshot {
    /// The organization's own concurrency limit (R108), if set.
    pub limit: Option<usize>,
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
                let events = e.hub.events().iter().map(|ev| ev.value.clone()).collect();
                CallEntry { record, events, closed_at: e.hub.closed_at() }
            })
            .collect();
        CallsSnapshot { limit: t.limit, calls, scenarios }
    }

    /// The book of `api_key`'s organization holding `snap`'s calls, none
    /// running or queued. Err names a repeated call id, a call that has
    /// not ended, or a scenario the table lacks.
    pub fn restore(api_key: Arc<str>, snap: CallsSnapshot) -> Result<Self, String> {
        let scenarios: HashMap<String, Arc<Scenario>> =
            snap.scenarios.into_iter().map(|(name, s)| (name, Arc::new(s))).collect();
        let mut table = CallTable { limit: snap.limit.map(|l| l.max(1)), ..CallTable::default() };
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
            table.order.push(id.clone());
            table.calls.insert(id, Entry { call: record, hub });
        }
        Ok(Self { api_key, table: Mutex::new(table) })
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
    /// Stores a new call with its hub. With `retry_of`, links it into the
    /// parent's retry family first (R121): the parent's `retryCallId`
    /// points at it and every member's `retryCount` grows. Returns the
    /// call as stored.
    pub fn insert(&mut self, mut call: Call, hub: Arc<CallHub>, retry_of: Option<&str>) -> Call {
        if let Some(parent_id) = retry_of {
            self.link_retry(parent_id, &mut call);
        }
        self.order.push(call.call_id.clone());
        self.calls.insert(call.call_id.clone(), Entry { call: call.clone(), hub });
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

    /// One call.
    pub fn call(&self, call_id: &str) -> Option<&Call> {
        self.calls.get(call_id).map(|e| &e.call)
    }

    /// One call and its hub, to change the call and publish its events.
    pub fn entry_mut(&mut self, call_id: &str) -> Option<(&mut Call, &Arc<CallHub>)> {
        self.calls.get_mut(call_id).map(|e| (&mut e.call, &e.hub))
    }

    /// The organization's own concurrency limit, if one was set.
    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// Sets the organization's concurrency limit (≥ 1); returns the queued
    /// call ids, in order, so the caller can dispatch those that now fit.
    pub fn set_limit(&mut self, limit: usize) -> Vec<String> {
        self.limit = Some(limit.max(1));
        self.queue.iter().cloned().collect()
    }

    /// Whether `call_id` may take a slot now under `limit`: a slot is free
    /// and no other call waits ahead of it (R108: queued calls start in
    /// order).
    pub fn may_start(&self, call_id: &str, limit: usize) -> bool {
        self.running < limit && self.queue.front().is_none_or(|q| q == call_id)
    }

    /// `call_id` takes a slot (leaving the queue if it waited).
    pub fn take_slot(&mut self, call_id: &str) {
        self.queue.retain(|q| q != call_id);
        self.running += 1;
    }

    /// `call_id` waits for a slot, behind the calls already waiting.
    pub fn enqueue(&mut self, call_id: &str) {
        self.queue.push_back(call_id.to_string());
    }

    /// `call_id` ended: gives back its slot if it held one and leaves the
    /// queue. Returns the call waiting first, which may start now.
    pub fn release(&mut self, call_id: &str, held_slot: bool) -> Option<String> {
        if held_slot {
            self.running = self.running.saturating_sub(1);
        }
        self.queue.retain(|q| q != call_id);
        self.queue.front().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R108: with one slot, the second call waits; when the first ends its
    /// slot goes to the call that waited first, and a later arrival does
    /// not jump the queue.
    #[test]
    fn slots_go_to_queued_calls_in_order() {
        let mut t = CallTable::default();
        assert!(t.may_start("a", 1));
        t.take_slot("a");
        for id in ["b", "c"] {
            assert!(!t.may_start(id, 1));
            t.enqueue(id);
        }
        assert_eq!(t.release("a", true), Some("b".to_string()));
        assert!(!t.may_start("c", 1), "c waits behind b");
        assert!(t.may_start("b", 1));
        t.take_slot("b");
        assert_eq!(t.release("c", false), None, "a queued call that ends frees nothing and leaves the queue");
        assert_eq!((t.running, t.queue.len()), (1, 0));
    }
}
