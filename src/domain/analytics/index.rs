//! The per-organization analytics index, a pure data structure.
//!
//! Ended calls are split into **cells**, one per (agent, campaign, call
//! type) seen: few per organization, and exactly the dimensions every
//! filter selects on. Each cell keeps a [`Bucket`] per 15-minute slot of
//! `createdAt` (a `BTreeMap`, so a range is a `range()` away) and the
//! cell's calls ordered by `createdAt`. A request merges the buckets fully
//! inside its range and builds the two edge buckets from the calls inside
//! the range's ends, so any millisecond range is exact. Days, hours and
//! weeks of any zone are unions of whole slots (rule A6).
//!
//! [`Index::record`] is an upsert: the call's previous contribution is
//! taken out and the new one added, so the engine may report a call as
//! often as it likes. Live calls are kept aside (rule A1) for the
//! real-time counts.
//!
//! Memory: one compact [`Row`] (about 110 bytes) per ended call, its call
//! id as a map key, a time-order entry and a few `u32`s in its bucket, plus
//! one interned copy of each id and number: a few hundred bytes a call
//! ([`ROW_BYTES`]). Removing rows does not free interned strings; the index
//! rebuilds itself from its rows when most of them are unused
//! ([`Index::compact`]), so its memory follows the rows it holds.
//! Figures that need exact values (percentiles, distinct counts) gather
//! `u32`s from the buckets of the range, never whole call records.
//!
//! [`super::Scan`] answers the same [`Source`] questions by looking at every
//! call; the property tests hold the index to it.

#[path = "index_rows.rs"]
mod rows;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::bucket::Bucket;
use super::facts::{CallFacts, CallKind, Outcome};
use super::params::{Filter, Range};
use super::{slot_of, SLOT};
use crate::domain::call::CallStatus;
use crate::domain::Millis;

pub use rows::{AnalyticsRow, ROW_BYTES};

/// An ended call in compact form; ids index the source's name table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Call id.
    pub call_id: Box<str>,
    /// Agent id.
    pub agent: u32,
    /// Campaign id.
    pub campaign: Option<u32>,
    /// Call type.
    pub kind: CallKind,
    /// How it ended.
    pub outcome: Outcome,
    /// `createdAt`, ms.
    pub created_at: Millis,
    /// Dispatched, ms.
    pub started_at: Option<Millis>,
    /// Ended, ms.
    pub ended_at: Millis,
    /// Talk time, ms (saturates at ~49 days).
    pub duration_ms: u32,
    /// `callCost`, millionths of a credit.
    pub cost_micros: i64,
    /// `retryAttemptNumber` (0 = first attempt).
    pub attempt: u32,
    /// Retry family (first attempt's call id).
    pub family: u32,
    /// The organization's number (A8).
    pub line: Option<u32>,
    /// The customer's number (A8).
    pub customer: Option<u32>,
}

impl Row {
    pub(super) fn new(f: &CallFacts, outcome: Outcome, names: &mut Names) -> Self {
        Self {
            call_id: f.call_id.as_str().into(),
            agent: names.id(&f.agent_id),
            campaign: f.campaign_id.as_deref().map(|c| names.id(c)),
            kind: f.kind,
            outcome,
            created_at: f.created_at,
            started_at: f.started_at,
            ended_at: f.ended_at.unwrap_or(f.created_at).max(f.created_at),
            duration_ms: u32::try_from(f.duration_ms()).unwrap_or(u32::MAX),
            cost_micros: f.cost_micros(),
            attempt: f.attempt,
            family: names.id(&f.family),
            line: f.line().map(|n| names.id(n)),
            customer: f.customer().map(|n| names.id(n)),
        }
    }

    /// `createdAt` to end, ms: how far back a call ending in a range may
    /// have been created.
    pub fn span(&self) -> Millis {
        self.ended_at - self.created_at
    }
}

/// A live call (pending, queued or in progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveRow {
    /// Agent id.
    pub agent: u32,
    /// `createdAt`, ms.
    pub created_at: Millis,
    /// Its status.
    pub status: CallStatus,
}

/// Interned strings (ids and numbers), each stored once.
#[derive(Debug, Default)]
pub(super) struct Names {
    ids: HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Names {
    pub(super) fn id(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        let s: Arc<str> = s.into();
        self.names.push(Arc::clone(&s));
        self.ids.insert(s, id);
        id
    }

    pub(super) fn get(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |s| s)
    }

    /// Strings interned.
    pub(super) fn len(&self) -> usize {
        self.names.len()
    }
}

/// What the figures read. Implemented by [`Index`] and by the naive
/// [`super::Scan`].
pub trait Source {
    /// Calls `f(agent id, slot, bucket)` for buckets holding, together,
    /// exactly the ended calls admitted by `filter` and created in `range`;
    /// `slot` is that of their `createdAt`.
    fn visit(&self, filter: &Filter, range: Range, f: &mut dyn FnMut(&str, i64, &Bucket));
    /// Those calls one by one, ordered by (`createdAt`, call id).
    fn rows(&self, filter: &Filter, range: Range) -> Vec<&Row>;
    /// Every live call.
    fn live(&self) -> Vec<LiveRow>;
    /// The string behind an id.
    fn name(&self, id: u32) -> &str;
    /// At least the longest `createdAt`-to-end span of any ended call.
    fn max_span(&self) -> Millis;
}

#[derive(Debug)]
struct Cell {
    agent: u32,
    campaign: Option<u32>,
    kind: CallKind,
    slots: BTreeMap<i64, Bucket>,
    by_time: BTreeSet<(Millis, u32)>,
}

/// One organization's analytics index (see the module doc).
#[derive(Debug, Default)]
pub struct Index {
    names: Names,
    /// Ended calls: where their row is.
    ended: HashMap<Box<str>, u32>,
    /// Live calls, apart so the real-time counts never walk ended ones.
    live: HashMap<Box<str>, LiveRow>,
    rows: Vec<Option<(u32, Row)>>,
    free: Vec<u32>,
    cells: Vec<Cell>,
    cell_of: HashMap<(u32, Option<u32>, CallKind), u32>,
    max_span: Millis,
}

impl Index {
    /// An empty index: every figure answers zeros (rule A7).
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls known (live and ended).
    pub fn len(&self) -> usize {
        self.ended.len() + self.live.len()
    }

    /// True when no call is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a call or replaces what was known about it.
    pub fn record(&mut self, f: &CallFacts) {
        self.remove(&f.call_id);
        match f.outcome() {
            None => {
                let live = LiveRow { agent: self.names.id(&f.agent_id), created_at: f.created_at, status: f.status };
                self.live.insert(f.call_id.as_str().into(), live);
            }
            Some(outcome) => {
                let row = Row::new(f, outcome, &mut self.names);
                let at = self.insert(row);
                self.ended.insert(f.call_id.as_str().into(), at);
            }
        }
    }

    /// Forgets a call (no-op when unknown).
    pub fn remove(&mut self, call_id: &str) {
        self.live.remove(call_id);
        let Some(at) = self.ended.remove(call_id) else { return };
        let Some((cell, row)) = self.rows.get_mut(at as usize).and_then(Option::take) else { return };
        self.free.push(at);
        let c = &mut self.cells[cell as usize];
        c.by_time.remove(&(row.created_at, at));
        let slot = slot_of(row.created_at);
        if let Some(b) = c.slots.get_mut(&slot) {
            b.remove(&row);
            if b.is_empty() {
                c.slots.remove(&slot);
            }
        }
        self.compact_if_sparse();
    }

    fn insert(&mut self, row: Row) -> u32 {
        let key = (row.agent, row.campaign, row.kind);
        let cell = *self.cell_of.entry(key).or_insert_with(|| {
            self.cells.push(Cell {
                agent: key.0,
                campaign: key.1,
                kind: key.2,
                slots: BTreeMap::new(),
                by_time: BTreeSet::new(),
            });
            u32::try_from(self.cells.len() - 1).unwrap_or(u32::MAX)
        });
        let at = match self.free.pop() {
            Some(at) => at,
            None => {
                self.rows.push(None);
                u32::try_from(self.rows.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.max_span = self.max_span.max(row.span());
        let c = &mut self.cells[cell as usize];
        c.by_time.insert((row.created_at, at));
        c.slots.entry(slot_of(row.created_at)).or_default().add(&row);
        self.rows[at as usize] = Some((cell, row));
        at
    }

    fn row(&self, at: u32) -> Option<&Row> {
        self.rows.get(at as usize).and_then(Option::as_ref).map(|(_, r)| r)
    }

    fn admitted(&self, filter: &Filter) -> Vec<&Cell> {
        self.cells
            .iter()
            .filter(|c| filter.admits(self.names.get(c.agent), c.campaign.map(|x| self.names.get(x)), c.kind))
            .collect()
    }

    fn in_range<'a>(&'a self, c: &'a Cell, range: Range) -> impl Iterator<Item = &'a Row> + 'a {
        c.by_time.range((range.from, 0)..(range.to, 0)).filter_map(|(_, at)| self.row(*at))
    }
}

impl Source for Index {
    fn visit(&self, filter: &Filter, range: Range, f: &mut dyn FnMut(&str, i64, &Bucket)) {
        if range.from >= range.to {
            return;
        }
        let (first, last) = (slot_of(range.from), slot_of(range.to - 1));
        let whole = |s: i64| range.from <= s * SLOT && (s + 1) * SLOT <= range.to;
        let (lo, hi) = (if whole(first) { first } else { first + 1 }, if whole(last) { last } else { last - 1 });
        let mut edges = vec![first, last];
        edges.dedup();
        edges.retain(|s| !whole(*s));
        for c in self.admitted(filter) {
            let agent = self.names.get(c.agent);
            if lo <= hi {
                for (s, b) in c.slots.range(lo..=hi) {
                    f(agent, *s, b);
                }
            }
            for &s in &edges {
                let part = Range { from: range.from.max(s * SLOT), to: range.to.min((s + 1) * SLOT) };
                let mut b = Bucket::default();
                self.in_range(c, part).for_each(|r| b.add(r));
                if !b.is_empty() {
                    f(agent, s, &b);
                }
            }
        }
    }

    fn rows(&self, filter: &Filter, range: Range) -> Vec<&Row> {
        let mut out: Vec<&Row> = self.admitted(filter).into_iter().flat_map(|c| self.in_range(c, range)).collect();
        out.sort_by(|a, b| (a.created_at, &a.call_id).cmp(&(b.created_at, &b.call_id)));
        out
    }

    fn live(&self) -> Vec<LiveRow> {
        self.live.values().copied().collect()
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id)
    }

    fn max_span(&self) -> Millis {
        self.max_span
    }
}
