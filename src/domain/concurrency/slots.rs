//! The slot allocator: which calls hold a concurrency slot, which wait,
//! and who starts when a slot frees (R108, CONC).
//!
//! A call is identified by its `callId` and classified by its [`SlotKey`]
//! (agent and channel). Slots are counted, not assigned: with `n` live
//! calls of a key that reserves `r` slots, `min(n, r)` sit in the key's
//! reserved slots and `n − r` (if positive) in the shared pool. So a call
//! of a key starts when
//! 1. fewer than `limit` calls are live (never more live calls than the
//!    limit), and
//! 2. the key has an unused reserved slot (`n < r`), or the shared pool
//!    has room (shared in use < `limit − Σ r`).
//!
//! # Order
//! Waiting calls form one FIFO queue in arrival order. Whenever capacity
//! may have grown (a release, a new limit, new reservations) the queue is
//! scanned front to back and every call that may start (rule above) at
//! that point of the scan starts; the others keep their places. Hence:
//! - a reserved agent's call behind others starts as soon as its own
//!   reserved slot frees, although earlier calls still wait for the shared
//!   pool: they may not use that slot;
//! - calls competing for the shared pool (every call of a key without a
//!   reservation, and a reserved key's calls beyond its reservation)
//!   start in arrival order, whichever agent they belong to;
//! - two calls of one key never overtake each other;
//! - no queued call waits while a slot it may use is free (after every
//!   operation [`Slots::next_to_start`] is `None`), so a new call starts
//!   at once only when nobody queued could have taken its slot.
//!
//! Changing the limit or the reservations never stops a live call; if
//! live calls then exceed what the new numbers allow, new calls wait
//! until enough have ended (CONC: "Reducing an agent's reservation never
//! interrupts calls already in progress").
//!
//! Inbound calls are admitted the same way; the engine disconnects one
//! still queued after [`super::INBOUND_RING_MS`] by releasing it.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::{total_reserved, Channel, Reservations};

/// What a call competes as: its agent and channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotKey {
    /// Agent id.
    pub agent_id: String,
    /// Channel.
    pub channel: Channel,
}

/// The answer of [`Slots::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// It holds a slot now: the engine moves it to `in_progress`.
    Started,
    /// It waits (`in_queue`); a later release, limit or reservation change
    /// returns its id when it starts.
    Queued,
}

/// One organization's slots. Serializes as `{limit, reservations, live,
/// queue}` (counts are derived), so a snapshot can hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "SlotsData", into = "SlotsData")]
pub struct Slots {
    limit: u32,
    reservations: Reservations,
    live: BTreeMap<String, SlotKey>,
    queue: VecDeque<(String, SlotKey)>,
    /// Live calls per key (derived from `live`).
    in_use: HashMap<SlotKey, u32>,
}

#[derive(Serialize, Deserialize)]
struct SlotsData {
    limit: u32,
    reservations: Reservations,
    live: Vec<(String, SlotKey)>,
    queue: Vec<(String, SlotKey)>,
}

impl From<SlotsData> for Slots {
    fn from(d: SlotsData) -> Self {
        let mut s = Slots::new(d.limit);
        s.reservations = d.reservations;
        for (id, key) in d.live {
            s.occupy(id, key);
        }
        s.queue = d.queue.into();
        s
    }
}

impl From<Slots> for SlotsData {
    fn from(s: Slots) -> Self {
        SlotsData {
            limit: s.limit,
            reservations: s.reservations,
            live: s.live.into_iter().collect(),
            queue: s.queue.into(),
        }
    }
}

impl Slots {
    /// No calls and no reservations under `limit` (at least 1).
    pub fn new(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            reservations: Reservations::new(),
            live: BTreeMap::new(),
            queue: VecDeque::new(),
            in_use: HashMap::new(),
        }
    }

    /// The limit (`orgLimit`).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The reservations.
    pub fn reservations(&self) -> &Reservations {
        &self.reservations
    }

    /// Calls holding a slot.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// Calls waiting.
    pub fn queued_count(&self) -> usize {
        self.queue.len()
    }

    /// Waiting call ids, in queue order.
    pub fn queued(&self) -> impl Iterator<Item = &str> {
        self.queue.iter().map(|(id, _)| id.as_str())
    }

    /// True when `call_id` holds a slot.
    pub fn is_live(&self, call_id: &str) -> bool {
        self.live.contains_key(call_id)
    }

    /// Slots reserved for `key`.
    pub fn reserved_for(&self, key: &SlotKey) -> u32 {
        self.reservations.get(&key.agent_id).map_or(0, |r| r.get(key.channel))
    }

    /// Live calls of `key`.
    pub fn in_use(&self, key: &SlotKey) -> u32 {
        self.in_use.get(key).copied().unwrap_or(0)
    }

    /// The shared pool: `limit − Σ reservations`, at least 0.
    pub fn shared_pool(&self) -> u64 {
        u64::from(self.limit).saturating_sub(total_reserved(&self.reservations))
    }

    /// Live calls beyond their key's reservation (they use the shared pool).
    pub fn shared_in_use(&self) -> u64 {
        self.in_use.iter().map(|(k, &n)| u64::from(n.saturating_sub(self.reserved_for(k)))).sum()
    }

    /// True when a call of `key` may start now (the rule in the module doc).
    pub fn can_start(&self, key: &SlotKey) -> bool {
        let room = (self.live.len() as u64) < u64::from(self.limit);
        room && (self.in_use(key) < self.reserved_for(key) || self.shared_in_use() < self.shared_pool())
    }

    /// The first queued call that may start now, if any. `None` after
    /// every operation of this type: nobody waits while a slot it may use
    /// is free.
    pub fn next_to_start(&self) -> Option<&str> {
        self.queue.iter().find(|(_, k)| self.can_start(k)).map(|(id, _)| id.as_str())
    }

    fn occupy(&mut self, call_id: String, key: SlotKey) {
        *self.in_use.entry(key.clone()).or_insert(0) += 1;
        self.live.insert(call_id, key);
    }

    /// A call asks for a slot (at dispatch). It starts at once when it
    /// may, else it joins the back of the queue. Asking again for a call
    /// already live or queued changes nothing and answers where it is.
    pub fn admit(&mut self, call_id: &str, key: SlotKey) -> Admission {
        if self.live.contains_key(call_id) {
            return Admission::Started;
        }
        if self.queue.iter().any(|(id, _)| id == call_id) {
            return Admission::Queued;
        }
        if self.can_start(&key) {
            self.occupy(call_id.to_string(), key);
            Admission::Started
        } else {
            self.queue.push_back((call_id.to_string(), key));
            Admission::Queued
        }
    }

    /// A call ended, was cancelled or gave up ringing: it leaves its slot
    /// or its place in the queue. Returns the queued calls that start now,
    /// in order; they already hold their slots.
    pub fn release(&mut self, call_id: &str) -> Vec<String> {
        if let Some(key) = self.live.remove(call_id) {
            if let Some(n) = self.in_use.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    self.in_use.remove(&key);
                }
            }
            return self.drain();
        }
        self.queue.retain(|(id, _)| id != call_id);
        Vec::new()
    }

    /// Sets the limit (at least 1; the plan's `concurrentCalls` or the
    /// control API's). Returns the queued calls that start now.
    pub fn set_limit(&mut self, limit: u32) -> Vec<String> {
        self.limit = limit.max(1);
        self.drain()
    }

    /// Replaces the reservations (already checked by
    /// [`super::apply_update`]). Returns the queued calls that start now.
    pub fn set_reservations(&mut self, reservations: Reservations) -> Vec<String> {
        self.reservations = reservations;
        self.drain()
    }

    /// Starts every queued call that may start, scanning front to back.
    /// One pass suffices: a start only takes capacity away, so a call
    /// skipped earlier in the scan cannot become startable later in it.
    fn drain(&mut self) -> Vec<String> {
        let mut started = Vec::new();
        let mut i = 0;
        while i < self.queue.len() && (self.live.len() as u64) < u64::from(self.limit) {
            if self.can_start(&self.queue[i].1) {
                if let Some((id, key)) = self.queue.remove(i) {
                    self.occupy(id.clone(), key);
                    started.push(id);
                }
            } else {
                i += 1;
            }
        }
        started
    }
}
