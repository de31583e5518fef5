//! Optimistic concurrency of `PUT …/draft` (R082, R083): an edit based on
//! an older `draftRevision` conflicts only when a later edit changed one
//! of the same leaf fields; edits to different fields merge.

use serde_json::{json, Value};

use super::BranchDraft;
use crate::domain::config::{self, ConfigMap};
use crate::domain::error::Rejection;
use crate::domain::DomainError;

/// `a` and `b` name the same leaf, or one contains the other.
fn overlaps(a: &str, b: &str) -> bool {
    a == b
        || a.strip_prefix(b).is_some_and(|r| r.starts_with('.'))
        || b.strip_prefix(a).is_some_and(|r| r.starts_with('.'))
}

/// The leaf paths a patch writes, with their values: objects are walked
/// into (they merge key by key), everything else is a leaf.
fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                leaves(&format!("{prefix}.{k}"), x, out);
            }
        }
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

/// Checks `patch`, based on draft revision `expected`, against what
/// changed in `d` since. An unknown base, or one older than the revisions
/// the draft keeps (`domain::history_budget` AH3), gives 409
/// `["base_revision_unavailable"]`; overlapping leaves give the
/// `DraftConflictError` body with the conflicting paths in `errors`.
pub fn check_expected(d: &BranchDraft, expected: u32, patch: &ConfigMap) -> Result<(), DomainError> {
    let kept = expected.checked_sub(d.first_snapshot);
    let base = kept.and_then(|e| usize::try_from(e).ok()).and_then(|e| d.snapshots.get(e));
    let Some(base) = base else {
        return Err(DomainError::Detailed(Box::new(Rejection {
            error_type: None,
            errors: vec!["base_revision_unavailable".into()],
            data: None,
        })));
    };
    let since = config::leaf_changes(base, &d.config);
    let mut mine = Vec::new();
    for (k, v) in patch {
        leaves(k, v, &mut mine);
    }
    let clashes: Vec<_> = since.iter().filter(|c| mine.iter().any(|(p, _)| overlaps(p, &c.path))).collect();
    if clashes.is_empty() {
        return Ok(());
    }
    let diffs: Vec<_> = clashes
        .iter()
        .map(|c| {
            let yours = mine.iter().find(|(p, _)| overlaps(p, &c.path)).map(|(_, v)| v.clone());
            json!({"path": c.path, "baseValue": c.old, "latestValue": c.new, "requestedValue": yours})
        })
        .collect();
    Err(DomainError::Detailed(Box::new(Rejection {
        error_type: None,
        errors: clashes.iter().map(|c| c.path.clone()).collect(),
        data: Some(json!({"conflict": {"expectedRevision": expected, "latestRevision": d.revision, "diffs": diffs}})),
    })))
}
