//! How much history one agent keeps, a mock extension. Published versions
//! and revisions are immutable and no route deletes them; drafts stay
//! after they are published or discarded; every draft edit adds to its
//! history. A suite that publishes to one long-lived agent in every test
//! would otherwise grow a shared server's memory without end (about 20 KiB
//! a draft-edit-publish cycle, BENCHMARKS.md "Agent history"), and every
//! command, which works on a copy of the record, would copy more.
//!
//! Rules (the reference is silent; all inferred):
//! - **AH1** An agent keeps at most [`MAX_ROWS`] published rows (v1
//!   versions and v2 revisions, whatever their state). Past it, the oldest
//!   rows that nothing needs go, down to `MAX_ROWS - MAX_ROWS / 16` (a
//!   batch). Needed, so never forgotten: the active version, a pinned
//!   version, a row whose scan is in flight, a branch's head, fork point or
//!   draft base, the base or source of an open v1 draft, the row with the
//!   highest `versionNumber`, and each branch's row with the highest
//!   `revisionNumber` (so numbering goes on where it was).
//! - **AH2** An agent keeps at most [`MAX_CLOSED_DRAFTS`] v1 drafts that
//!   are published or discarded; past it, the oldest go (the same batch).
//!   Open drafts are never forgotten.
//! - **AH3** A draft's edit history (v1 and branch drafts) keeps its last
//!   [`MAX_EDITS`] edits; `editCount` still counts every edit. A branch
//!   draft keeps the config of its last [`MAX_EDITS`] draft revisions: a
//!   `PUT …/draft` whose `expectedRevision` is older answers the
//!   platform's own 409 `base_revision_unavailable` (R082).
//! - **AH4** What is forgotten answers as an id never created (404 `Version
//!   not found`, `Revision not found`, `Draft not found`, …); lists and
//!   their `total` count what is kept (past the bound, R059's "`total`
//!   counts all published versions" becomes all kept ones: a mock
//!   deviation, chosen over unbounded memory). Cached prompt scores of forgotten
//!   rows and drafts go with them. Calls keep the ids they ran.
//! - **AH5** An agent has at most [`MAX_OPEN_DRAFTS`] open v1 drafts:
//!   one more is refused with 400 (`check_open_drafts`); publish or discard
//!   one first.
//! - **AH6** An agent has at most [`MAX_ACTIVE_BRANCHES`] active v2
//!   branches (one more is 400, `check_active_branches`) and keeps at most
//!   [`MAX_ARCHIVED_BRANCHES`] archived ones: past it, the oldest archived
//!   branches go (the same batch), with their drafts; their revisions
//!   stay until AH1 finds them unneeded.

use std::collections::HashSet;

use super::error::check_count;
use super::versioning::{AgentRecord, RevState};
use super::DomainError;

/// AH1: published rows (versions and revisions) kept per agent.
pub const MAX_ROWS: usize = 1_000;

/// AH2: published or discarded v1 drafts kept per agent.
pub const MAX_CLOSED_DRAFTS: usize = 1_000;

/// AH3: edits, and branch-draft revision configs, kept per draft.
pub const MAX_EDITS: usize = 1_000;

/// AH5: open v1 drafts per agent.
pub const MAX_OPEN_DRAFTS: usize = 1_000;

/// AH6: active (not archived) v2 branches per agent.
pub const MAX_ACTIVE_BRANCHES: usize = 1_000;

/// AH6: archived v2 branches kept per agent.
pub const MAX_ARCHIVED_BRANCHES: usize = 100;

/// AH5: 400 `Draft limit reached: an agent can have at most 1000 open
/// drafts` when an agent with `open` open drafts may not open another
/// (*inferred* wording, in the style of the other mock bounds).
pub fn check_open_drafts(open: usize) -> Result<(), DomainError> {
    check_count(open, MAX_OPEN_DRAFTS, ("Draft", "an agent", "open drafts"))
}

/// AH6: 400 `Branch limit reached: an agent can have at most 1000 active
/// branches` when an agent with `active` active branches may not create
/// another (*inferred* wording).
pub fn check_active_branches(active: usize) -> Result<(), DomainError> {
    check_count(active, MAX_ACTIVE_BRANCHES, ("Branch", "an agent", "active branches"))
}

/// How many of `len` items to drop so that at most `max` remain after a
/// batch: none within `max`, else down to `max - max / 16`.
fn excess(len: usize, max: usize) -> usize {
    if len <= max {
        0
    } else {
        len - (max - max / 16)
    }
}

/// Appends `item` to `items`, dropping the oldest past [`MAX_EDITS`] (AH3)
/// and counting them in `dropped`.
pub fn push_bounded<T>(items: &mut Vec<T>, dropped: &mut u32, item: T) {
    items.push(item);
    let n = excess(items.len(), MAX_EDITS);
    if n > 0 {
        items.drain(..n);
        *dropped = dropped.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
    }
}

/// Applies AH1, AH2 and AH4's score clean-up to `rec`; `true` when
/// anything was forgotten. Costs a length check while within the bounds.
pub fn trim(rec: &mut AgentRecord) -> bool {
    let branches = trim_branches(rec);
    let rows = trim_rows(rec);
    let drafts = trim_drafts(rec);
    if branches || rows || drafts {
        let kept: HashSet<String> = rec
            .versions
            .iter()
            .map(|v| v.id.to_string())
            .chain(rec.drafts.iter().map(|d| d.id.clone()))
            .chain(rec.branches.iter().filter_map(|b| b.draft.as_ref().map(|d| d.id.clone())))
            .collect();
        rec.prompt_scores.retain(|id, _| kept.contains(id));
    }
    branches || rows || drafts
}

/// AH6: the oldest archived branches, down to the target. Their rows stay
/// until AH1 finds them unneeded.
fn trim_branches(rec: &mut AgentRecord) -> bool {
    if rec.branches.len() <= MAX_ARCHIVED_BRANCHES {
        return false;
    }
    let mut left = excess(rec.branches.iter().filter(|b| b.archived).count(), MAX_ARCHIVED_BRANCHES);
    if left == 0 {
        return false;
    }
    let live = rec.live_branch.clone();
    rec.branches.retain(|b| {
        let go = left > 0 && b.archived && b.id != live;
        left -= usize::from(go);
        !go
    });
    true
}

/// The rows AH1 never forgets.
fn needed_rows(rec: &AgentRecord) -> HashSet<String> {
    let mut needed: HashSet<String> = HashSet::new();
    needed.insert(rec.agent.active_version_id.to_string());
    for v in &rec.versions {
        if v.is_pinned || v.state == RevState::Scanning {
            needed.insert(v.id.to_string());
        }
    }
    for b in &rec.branches {
        needed.extend(b.head_revision_id.iter().map(ToString::to_string));
        needed.extend(b.source_revision_id.iter().cloned());
        needed.extend(b.publishing.iter().cloned());
        needed.extend(b.draft.as_ref().and_then(|d| d.base_revision_id.clone()));
        let newest = rec
            .versions
            .iter()
            .filter(|v| v.branch.as_deref() == Some(b.id.as_str()))
            .max_by_key(|v| v.revision_number);
        needed.extend(newest.map(|v| v.id.to_string()));
    }
    for d in rec.drafts.iter().filter(|d| d.is_open()) {
        needed.insert(d.base_version_id.clone());
        needed.extend(d.source_version_id.iter().cloned());
    }
    needed.extend(rec.versions.iter().max_by_key(|v| v.number).map(|v| v.id.to_string()));
    needed
}

/// AH1: the oldest rows nothing needs, down to the target.
fn trim_rows(rec: &mut AgentRecord) -> bool {
    let mut left = excess(rec.versions.len(), MAX_ROWS);
    if left == 0 {
        return false;
    }
    let needed = needed_rows(rec);
    rec.versions.retain(|v| {
        let go = left > 0 && !needed.contains(v.id.as_str());
        left -= usize::from(go);
        !go
    });
    true
}

/// AH2: the oldest closed v1 drafts, down to the target.
fn trim_drafts(rec: &mut AgentRecord) -> bool {
    if rec.drafts.len() <= MAX_CLOSED_DRAFTS {
        return false;
    }
    let mut left = excess(rec.drafts.iter().filter(|d| !d.is_open()).count(), MAX_CLOSED_DRAFTS);
    if left == 0 {
        return false;
    }
    rec.drafts.retain(|d| {
        let go = left > 0 && !d.is_open();
        left -= usize::from(go);
        !go
    });
    true
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn an_agent_opens_at_most_max_open_drafts_and_active_branches_ah5_ah6() {
        assert!(check_open_drafts(MAX_OPEN_DRAFTS - 1).is_ok());
        let err = check_open_drafts(MAX_OPEN_DRAFTS).expect_err("past the bound");
        assert_eq!(err.to_string(), "Draft limit reached: an agent can have at most 1000 open drafts");
        assert!(check_active_branches(MAX_ACTIVE_BRANCHES - 1).is_ok());
        let err = check_active_branches(MAX_ACTIVE_BRANCHES).expect_err("past the bound");
        assert_eq!(err.to_string(), "Branch limit reached: an agent can have at most 1000 active branches");
    }

    #[test]
    fn pushes_drop_the_oldest_in_a_batch_and_count_them() {
        let (mut items, mut dropped) = (Vec::new(), 0);
        for i in 0..MAX_EDITS {
            push_bounded(&mut items, &mut dropped, i);
        }
        assert_eq!((items.len(), dropped), (MAX_EDITS, 0), "AH3: within the bound");
        push_bounded(&mut items, &mut dropped, MAX_EDITS);
        let kept = MAX_EDITS - MAX_EDITS / 16;
        assert_eq!((items.len(), dropped as usize), (kept, MAX_EDITS + 1 - kept));
        assert_eq!(items.first(), Some(&(MAX_EDITS + 1 - kept)), "the oldest went");
        assert_eq!(items.last(), Some(&MAX_EDITS), "the newest stays");
    }

    /// AH1, AH2, AH4 through the lifecycle: 1,100 draft-and-publish
    /// cycles on one agent, with version 2 pinned and version 12 made
    /// active on the way.
    #[test]
    fn publishing_past_the_bound_forgets_the_oldest_unneeded_versions_and_drafts() {
        use crate::domain::versioning::{apply, Command, Rules};
        use crate::domain::versioning_props::{hex_id, start_record, OWNER, T0};
        let rules = Rules { security_check_ms: 0, access: Default::default(), config_freeze: false };
        let mut rec = start_record();
        let first = rec.agent.active_version_id.to_string();
        let (mut n, cycles) = (0u64, MAX_ROWS + 100);
        for i in 0..cycles {
            n += 2;
            let (draft, version) = (hex_id(0xd000_0000 + n), hex_id(0xe000_0000 + n));
            let create = Command::CreateDraft {
                id: hex_id(0xc000_0000 + n),
                draft_id: draft.clone(),
                source_version_id: Some(rec.agent.active_version_id.to_string()),
                source_draft_id: None,
                name: None,
            };
            rec = apply(&rec, &create, T0, OWNER, rules).expect("create");
            let publish = Command::PublishDraft {
                draft,
                version_id: version.clone(),
                label: None,
                description: None,
                activate: false,
            };
            rec = apply(&rec, &publish, T0, OWNER, rules).expect("publish");
            if i == 0 {
                let pin = Command::UpdateVersionMeta {
                    version_id: version,
                    label: None,
                    description: None,
                    is_pinned: Some(true),
                };
                rec = apply(&rec, &pin, T0, OWNER, rules).expect("pin");
            } else if i == 10 {
                rec = apply(&rec, &Command::Activate { version_id: version }, T0, OWNER, rules).expect("activate");
            }
            assert!(rec.versions.len() <= MAX_ROWS, "AH1 after cycle {i}");
            assert!(rec.drafts.len() <= MAX_CLOSED_DRAFTS, "AH2 after cycle {i}");
        }
        let numbers: Vec<u32> = rec.versions.iter().map(|v| v.number).collect();
        assert_eq!(numbers.last(), Some(&(u32::try_from(cycles).expect("small") + 1)), "numbering goes on");
        assert!(rec.versions.iter().any(|v| v.number == 2 && v.is_pinned), "AH1: the pinned version stays");
        let active = rec.version(&rec.agent.active_version_id).expect("AH1: the active version stays");
        assert_eq!(active.number, 12);
        assert!(rec.version(&first).is_some(), "AH1: version 1 stays, as the head of the branch Main");
        assert!(!numbers.contains(&3), "AH1: version 3, which nothing needs, went");
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "oldest first, as before");
        assert!(rec.versions.len() > MAX_ROWS - MAX_ROWS / 16 - 1, "only a batch went: {}", rec.versions.len());
    }

    proptest! {
        /// AH3 over any number of pushes: at most MAX_EDITS kept, the
        /// newest ones in order, and kept + dropped = pushed.
        #[test]
        fn bounded_pushes_keep_the_newest_and_count_the_rest(n in 0usize..3000) {
            let (mut items, mut dropped) = (Vec::new(), 0u32);
            for i in 0..n {
                push_bounded(&mut items, &mut dropped, i);
            }
            prop_assert!(items.len() <= MAX_EDITS);
            prop_assert_eq!(items.len() + dropped as usize, n);
            let expected: Vec<usize> = (dropped as usize..n).collect();
            prop_assert_eq!(items, expected);
        }
    }
}
