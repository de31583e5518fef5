//! `GET /conversation`'s default list kept in order (R111–R113): root
//! calls (not retries) by `updatedAt`, ties by creation order, and the
//! disposition metric definitions they carry, first seen first. With it a
//! default list costs O(log n + page) under the table's lock instead of
//! copying, filtering and sorting every call.
//!
//! Keeping it exact: a call's `updatedAt` changes only through
//! [`super::CallTable::entry_mut`], the one way to change a stored call.
//! It records which root call it hands out ([`RootIndex::touch`]); the
//! table's next `&mut` use, the list included, first files that call under
//! its new `updatedAt` ([`RootIndex::settle`]). The borrow checker makes
//! this enough: a handed-out `&mut Call` ends before the table is used
//! again, so at most one call can have changed unseen. Whether a call is
//! a root (`retryAttemptNumber` 0) and its config are fixed when it is
//! stored. A call leaving the table (evicted by the call-store budget,
//! `domain::call_budget` CB3) leaves the index too ([`RootIndex::remove`]).

use serde_json::Value;

use crate::call::analytics::disposition_defs;
use crate::call::Call;
use crate::domain::list_order::{ByTime, FirstSeen};
use crate::domain::page::Page;
use crate::domain::Millis;

/// The index of one call table (see the module doc).
#[derive(Debug, Default)]
pub(super) struct RootIndex {
    /// The next call's sequence number (creation order).
    next_seq: u64,
    /// Root calls' ids by `(updatedAt, seq)`.
    by_updated: ByTime<String>,
    /// Root calls' `dispositionMetricsConfig` entries, by the list of
    /// them a call carries ([`config_key`]).
    configs: FirstSeen<String, Vec<Value>>,
    /// The root call last handed out to change, filed under this key.
    touched: Option<(Millis, u64)>,
}

/// Whether `call` is listed by default (`callAttemptFilter=initial`).
fn is_root(call: &Call) -> bool {
    call.retry_attempt_number == 0
}

/// The group of `defs` (a call's metric definitions) in
/// [`RootIndex::configs`]: their JSON text.
pub(super) fn config_key(defs: &[Value]) -> String {
    serde_json::to_string(defs).unwrap_or_default()
}

impl RootIndex {
    /// Files a call being stored; returns its sequence number.
    pub(super) fn add(&mut self, call: &Call) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if is_root(call) {
            self.by_updated.insert(call.updated_at, seq, call.call_id.clone());
            let defs = disposition_defs(&call.config);
            if !defs.is_empty() {
                self.configs.insert(config_key(&defs), seq, || defs);
            }
        }
        seq
    }

    /// `call` (sequence `seq`) is being handed out to change.
    pub(super) fn touch(&mut self, call: &Call, seq: u64) {
        self.touched = is_root(call).then_some((call.updated_at, seq));
    }

    /// Files the call last handed out under its `updatedAt` now, which
    /// `updated_at` reads by call id.
    pub(super) fn settle(&mut self, updated_at: impl Fn(&str) -> Option<Millis>) {
        let Some((was, seq)) = self.touched.take() else { return };
        if let Some(now) = self.by_updated.get(was, seq).and_then(|id| updated_at(id)) {
            self.by_updated.retime(was, seq, now);
        }
    }

    /// Takes `call` (sequence `seq`), which is leaving the table, out of
    /// the index. Call [`RootIndex::settle`] first, so it is filed under
    /// its current `updatedAt`.
    pub(super) fn remove(&mut self, call: &Call, seq: u64) {
        if !is_root(call) {
            return;
        }
        self.by_updated.remove(call.updated_at, seq);
        let defs = disposition_defs(&call.config);
        if !defs.is_empty() {
            self.configs.remove(&config_key(&defs), seq);
        }
    }

    /// The ids of `page` of the root calls, latest `updatedAt` first
    /// unless `ascending`, and how many root calls there are. Call
    /// [`RootIndex::settle`] first.
    pub(super) fn page(&self, ascending: bool, page: Page) -> (impl Iterator<Item = &String>, usize) {
        (self.by_updated.page(ascending, page), self.by_updated.len())
    }

    /// The metric definition lists of the root calls, each once, in the
    /// order of the first call carrying it.
    pub(super) fn configs(&self) -> Vec<Vec<Value>> {
        self.configs.ordered().into_iter().cloned().collect()
    }
}
