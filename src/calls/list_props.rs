//! `GET /conversation`'s default list read through the call table's
//! index ([`crate::store::CallBook::roots_page`]) against the full scan
//! ([`LogQuery::select`]) over random calls, retries and changes.
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::json;

use super::query::{LogParams, LogQuery};
use crate::call::NewCall;
use crate::domain::page::Page;
use crate::events::CallHub;
use crate::store::CallBook;

/// A call whose config carries metric set `metrics`: none (0), or one
/// of three lists that share identifier `m1` with two types, so which
/// definition is seen first matters.
fn call(id: &str, metrics: u8, at: i64) -> crate::call::Call {
    let def = |id: &str, kind: &str| json!({"identifier": id, "dispositionMetricType": kind});
    let m = match metrics {
        1 => vec![def("m1", "BOOLEAN")],
        2 => vec![def("m2", "INTEGER"), def("m1", "STRING")],
        3 => vec![def("m1", "STRING")],
        _ => vec![],
    };
    let mut config = serde_json::Map::new();
    if !m.is_empty() {
        config.insert("postCallAnalyticsConfig".into(), json!({"dispositionMetrics": m}));
    }
    let new = NewCall { config: config.into(), ..NewCall::sample("a") };
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
        2 => (prop::option::weighted(0.25, any::<usize>()), 0u8..4, 0i64..30).prop_map(|(r, m, t)| Op::Place(r, m, t)),
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
        let book = CallBook::new(Arc::from("k"), 1, Arc::default(), Arc::default());
        let mut table = book.lock();
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
        drop(table);
        let order = if ascending { "asc" } else { "desc" };
        let raw: LogParams = serde_json::from_value(json!({
            "page": number.to_string(), "limit": limit.to_string(), "sortOrder": order,
        })).expect("params");
        let q = LogQuery::parse(&raw).expect("valid");
        prop_assert_eq!(q.default_order(), Some(ascending));
        let all = book.list(|c| q.matches(c));
        // The handler's dedup: each identifier's first definition.
        let metrics = |lists: Vec<Vec<serde_json::Value>>| {
            let mut seen: Vec<serde_json::Value> = Vec::new();
            for d in lists.into_iter().flatten() {
                if !seen.iter().any(|x| x["identifier"] == d["identifier"]) {
                    seen.push(d);
                }
            }
            seen
        };
        let want_metrics = metrics(all.iter().map(super::render::disposition_config).collect());
        let want = q.select(all);
        let got = book.roots_page(ascending, Page::numbered(number, limit));
        let ids_of = |calls: &[crate::call::Call]| calls.iter().map(|c| c.call_id.clone()).collect::<Vec<_>>();
        prop_assert_eq!(ids_of(&got.calls), ids_of(&want.calls));
        prop_assert_eq!(got.total, want.total);
        prop_assert_eq!(metrics(got.configs), want_metrics);
    }
}
