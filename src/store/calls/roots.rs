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
//! stored. A call leaving the table must leave the index too:
//! `by_updated.remove(updated_at, seq)` and, for a root with metrics,
//! `configs.remove(key, seq)` ([`config_key`]).

use serde_json::Value;

use crate::call::Call;
use crate::calls::render::disposition_config;
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
            let defs = disposition_config(call);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;
    use serde_json::json;

    use super::super::{CallBook, CallTable};
    use crate::call::{CallType, NewCall};
    use crate::calls::query::{LogParams, LogQuery};
    use crate::domain::concurrency::Slots;
    use crate::domain::page::Page;
    use crate::events::CallHub;

    /// A call whose config carries metric `metric` (none for 0).
    fn call(id: &str, metric: u8, at: i64) -> crate::call::Call {
        let mut config = serde_json::Map::new();
        if metric > 0 {
            let m = json!([{"identifier": format!("m{metric}"), "dispositionMetricType": "BOOLEAN"}]);
            config.insert("postCallAnalyticsConfig".into(), json!({"dispositionMetrics": m}));
        }
        let new = NewCall {
            agent_id: "a".into(),
            call_type: CallType::TelephonyOutbound,
            from: None,
            to: Some("+15551230000".into()),
            variables: serde_json::Map::new(),
            version_id: String::new(),
            version_number: 1,
            config: Arc::new(config),
            is_test: false,
            scenario: crate::scenarios::Library::load(None).expect("scenarios").get("happy-path").expect("happy-path"),
            conversation_id: None,
            campaign_id: None,
            retry_of: None,
            chat: false,
        };
        crate::call::Call::new(new, id.into(), id.into(), at)
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A call (a retry of an earlier one when `Some`) with a metric.
        Place(Option<usize>, u8, i64),
        /// An earlier call's `updatedAt` moves to this time.
        Touch(usize, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => (prop::option::weighted(0.25, any::<usize>()), 0u8..3, 0i64..30).prop_map(|(r, m, t)| Op::Place(r, m, t)),
            3 => (any::<usize>(), 0i64..40).prop_map(|(i, t)| Op::Touch(i, t)),
        ]
    }

    proptest! {
        /// Over random calls, retries and `updatedAt` changes made the
        /// engine's way (`entry_mut`), the default list read through the
        /// index (page, total and metric definitions) equals what the full
        /// scan (`LogQuery::select` over every call) gives.
        #[test]
        fn the_indexed_default_list_equals_the_full_scan(
            ops in prop::collection::vec(op(), 0..60),
            ascending: bool,
            number in 1usize..5,
            limit in 1usize..6,
        ) {
            let mut table = CallTable::new(Slots::new(1));
            let mut ids: Vec<String> = Vec::new();
            for o in ops {
                match o {
                    Op::Place(retry, metric, at) => {
                        let id = format!("CALL-{}", ids.len());
                        let parent = retry.filter(|_| !ids.is_empty()).map(|i| ids[i % ids.len()].clone());
                        table.insert(call(&id, metric, at), Arc::new(CallHub::new()), parent.as_deref(), false);
                        ids.push(id);
                    }
                    Op::Touch(i, at) if !ids.is_empty() => {
                        let (c, _) = table.entry_mut(&ids[i % ids.len()]).expect("stored");
                        c.updated_at = at;
                    }
                    Op::Touch(..) => {}
                }
            }
            let book = CallBook {
                api_key: Arc::from("k"),
                table: parking_lot::Mutex::new(table),
                analytics: Arc::default(),
                dnc: Arc::default(),
            };
            let order = if ascending { "asc" } else { "desc" };
            let raw: LogParams = serde_json::from_value(json!({
                "page": number.to_string(), "limit": limit.to_string(), "sortOrder": order,
            })).expect("params");
            let q = LogQuery::parse(&raw).expect("valid");
            prop_assert_eq!(q.default_order(), Some(ascending));
            let all = book.list(|c| q.matches(c));
            let metrics = |lists: Vec<Vec<serde_json::Value>>| {
                let mut seen: Vec<String> = Vec::new();
                for d in lists.into_iter().flatten() {
                    let id = d["identifier"].to_string();
                    if !seen.contains(&id) {
                        seen.push(id);
                    }
                }
                seen
            };
            let want_metrics = metrics(all.iter().map(crate::calls::render::disposition_config).collect());
            let want = q.select(all);
            let got = book.roots_page(ascending, Page::numbered(number, limit));
            let ids_of = |calls: &[crate::call::Call]| calls.iter().map(|c| c.call_id.clone()).collect::<Vec<_>>();
            prop_assert_eq!(ids_of(&got.calls), ids_of(&want.calls));
            prop_assert_eq!(got.total, want.total);
            prop_assert_eq!(metrics(got.configs), want_metrics);
        }
    }
}
