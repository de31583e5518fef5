//! The steps of the v2 commands that touch more than one field: creating
//! a branch, making one live, editing and publishing its draft, committing
//! after the scan, restoring a revision (R072–R098). [`super::apply`]
//! dispatches to them; each works on the `next` record and returns an
//! error before changing anything it must not.

use super::{check_expected, in_progress, not_found, Branch, BranchDraft};
use crate::domain::config::{self, Config, ConfigMap};
use crate::domain::versioning::{blocks_for, check_len, next_number, Actor, AgentRecord, Edit, Restored, Rules};
use crate::domain::versioning::{RevState, Version};
use crate::domain::{history_budget, DomainError, Millis};

pub(super) fn touch<'a>(b: &'a mut Branch, now: Millis, actor: Actor<'_>) -> &'a mut Branch {
    b.updated_at = now.max(b.updated_at);
    b.updated_by = actor.into();
    b
}

pub(super) fn create(
    next: &mut AgentRecord,
    id: &str,
    source: &str,
    name: &str,
    now: Millis,
    actor: Actor<'_>,
) -> Result<(), DomainError> {
    check_len("name", Some(&name.to_string()), 1, 100)?;
    history_budget::check_active_branches(next.branches.iter().filter(|b| !b.archived).count())?;
    let src = next.branch(source).ok_or_else(|| DomainError::NotFound("Source branch not found".into()))?;
    if next.name_taken(name, None) {
        return Err(DomainError::typed("branch_name_exists", format!("A branch named \"{name}\" already exists")));
    }
    let Some(head) = src.head_revision_id.clone() else {
        return Err(DomainError::typed("source_has_no_commit", "Source branch has no committed revision"));
    };
    if src.publishing.is_some() {
        return Err(DomainError::typed("source_scanning", "Source branch has a publish scanning"));
    }
    next.branches.push(Branch {
        id: id.into(),
        name: name.into(),
        is_default: false,
        source_branch_id: Some(source.to_string()),
        source_revision_id: Some(head.to_string()),
        head_revision_id: None,
        archived: false,
        draft: None,
        publishing: None,
        created_by: actor.into(),
        updated_by: actor.into(),
        created_at: now,
        updated_at: now,
    });
    Ok(())
}

/// Makes `rev` the agent's active version (R079, R089).
pub(super) fn activate(next: &mut AgentRecord, rev: &str, now: Millis, actor: Actor<'_>) {
    let at = now.max(next.agent.updated_at);
    next.agent.active_version_id = rev.into();
    next.agent.updated_at = at;
    if let Some(v) = next.versions.iter_mut().find(|v| v.id == rev) {
        v.activated_at = Some(at);
        v.activated_by = Some(actor.into());
    }
}

pub(super) fn make_live(
    next: &mut AgentRecord,
    branch: &str,
    now: Millis,
    actor: Actor<'_>,
) -> Result<(), DomainError> {
    let b = next.branch(branch).ok_or_else(not_found)?;
    if b.archived {
        return Err(DomainError::Forbidden("Archived branches cannot be made live".into()));
    }
    let head = next
        .head(b)
        .ok_or_else(|| DomainError::typed("no_committed_revision", "Branch has no committed revision to make live"))?;
    if head.security_status(now) != "passed" {
        return Err(DomainError::Forbidden("The branch head has not passed its security scan".into()));
    }
    if next.live_branch == branch {
        return Ok(());
    }
    let head = head.id.clone();
    next.live_branch = branch.into();
    activate(next, &head, now, actor);
    Ok(())
}

/// The config a new draft on `b` starts from: its head, else the revision
/// it was forked from.
pub(super) fn draft_base(next: &AgentRecord, b: &Branch) -> (Config, Option<String>) {
    let base = b.head_revision_id.as_deref().or(b.source_revision_id.as_deref());
    let v = base.and_then(|id| next.version(id));
    (v.map_or_else(config::defaults, |v| v.config.clone()), v.map(|v| v.id.to_string()))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn put_draft(
    next: &mut AgentRecord,
    branch: &str,
    draft_id: &str,
    patch: &ConfigMap,
    expected: Option<u32>,
    now: Millis,
    actor: Actor<'_>,
    rules: Rules,
) -> Result<(), DomainError> {
    let i = next.branch_index(branch)?;
    if next.branches[i].archived {
        return Err(DomainError::Forbidden("Archived branches cannot be edited".into()));
    }
    let (base, base_id) = draft_base(next, &next.branches[i]);
    let b = &mut next.branches[i];
    let d = b.draft.get_or_insert_with(|| {
        Box::new(BranchDraft {
            id: draft_id.to_string(),
            revision: 0,
            blocks: blocks_for(draft_id, 0, &config::SECTIONS, None),
            snapshots: vec![base.clone()],
            first_snapshot: 0,
            config: base,
            history: Vec::new(),
            dropped_edits: 0,
            base_revision_id: base_id.clone(),
            failed_at: None,
            published: false,
            created_by: actor.to_string(),
            created_at: now,
            updated_at: now,
        })
    });
    if d.published {
        // LIVE V2: the published document reopens; its config is the head's.
        d.published = false;
        d.base_revision_id = base_id;
    }
    if let Some(e) = expected {
        check_expected(d, e, patch)?;
    }
    let mut merged = (*d.config).clone();
    config::merge(&mut merged, patch);
    crate::domain::agent::check_access(&merged, rules.access)?;
    let sections = config::changed_sections(&config::leaf_changes(&d.config, &merged));
    d.revision += 1;
    d.blocks = blocks_for(&d.id, d.revision, &sections, Some(&d.blocks));
    let edit = Edit { revision: d.revision, changed_sections: sections, at: now };
    history_budget::push_bounded(&mut d.history, &mut d.dropped_edits, edit);
    d.config = crate::domain::config::Config::new(merged);
    history_budget::push_bounded(&mut d.snapshots, &mut d.first_snapshot, d.config.clone());
    d.updated_at = now.max(d.updated_at);
    touch(b, now, actor);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn publish(
    next: &mut AgentRecord,
    branch: &str,
    revision_id: &str,
    label: Option<&String>,
    scan_fails: bool,
    now: Millis,
    actor: Actor<'_>,
    rules: Rules,
) -> Result<(), DomainError> {
    check_len("label", label, 0, 200)?;
    let i = next.branch_index(branch)?;
    let b = &next.branches[i];
    if b.archived {
        return Err(DomainError::Forbidden("Archived branches cannot be published".into()));
    }
    let d = b.open_draft().ok_or_else(|| DomainError::NotFound("Draft not found".into()))?;
    if b.publishing.is_some() {
        return Err(in_progress());
    }
    if d.failed_at == Some(d.revision) {
        return Err(DomainError::typed(
            "security_scan_failed",
            "The draft failed its security scan; edit it and publish again",
        ));
    }
    let scanned =
        next.versions.iter().any(|v| v.is_committed() && v.security_status(now) == "passed" && v.config == d.config);
    let instant = scanned || (rules.security_check_ms == 0 && !scan_fails);
    let row = Version {
        id: revision_id.into(),
        number: next_number(next),
        label: label.cloned().map(Into::into),
        description: None,
        is_pinned: false,
        published_by: actor.into(),
        published_at: now,
        activated_by: None,
        activated_at: None,
        draft_id: Some(d.id.clone()),
        parent_version: b.head_revision_id.as_deref().map(str::to_string).or_else(|| d.base_revision_id.clone()),
        security_passes_at: if instant { now } else { now.saturating_add(rules.security_check_ms) },
        config: d.config.clone(),
        blocks: d.blocks.clone(),
        updated_at: now,
        branch: Some(branch.into()),
        revision_number: None,
        legacy_number: false,
        state: RevState::Scanning,
        draft_revision: Some(d.revision),
        restored_from: None,
        scan_fails,
    };
    next.versions.push(row);
    if instant {
        commit(next, revision_id, now, actor);
    } else {
        next.branches[i].publishing = Some(revision_id.to_string());
    }
    Ok(())
}

/// Commits row `rev` at the head of its branch: next `revisionNumber`,
/// closes the draft it came from if unedited since (kept as the branch's
/// published draft document, LIVE V2), and activates it on the live
/// branch (R086, R089).
fn commit(next: &mut AgentRecord, rev: &str, now: Millis, actor: Actor<'_>) {
    let Some(row) = next.versions.iter().find(|v| v.id == rev) else { return };
    let (branch, draft_id, draft_rev) =
        (row.branch.clone().unwrap_or_default(), row.draft_id.clone(), row.draft_revision);
    let n = next.branch_revisions(&branch).filter_map(|v| v.revision_number).max().unwrap_or(0) + 1;
    if let Some(v) = next.versions.iter_mut().find(|v| v.id == rev) {
        v.state = RevState::Committed;
        v.revision_number = Some(n);
        v.published_at = now;
        v.updated_at = now.max(v.updated_at);
    }
    if let Some(b) = next.branches.iter_mut().find(|b| b.id == branch) {
        b.head_revision_id = Some(rev.into());
        if b.publishing.as_deref() == Some(rev) {
            b.publishing = None;
        }
        if let Some(d) = b.draft.as_mut().filter(|d| Some(&d.id) == draft_id.as_ref() && Some(d.revision) == draft_rev)
        {
            d.published = true;
        }
        touch(b, now, actor);
    }
    if next.live_branch == branch {
        activate(next, rev, now, actor);
    }
}

pub(super) fn scan_complete(next: &mut AgentRecord, rev: &str, now: Millis, actor: Actor<'_>) {
    let Some(row) = next.versions.iter_mut().find(|v| v.id == rev && v.state == RevState::Scanning) else {
        return;
    };
    if !row.scan_fails {
        commit(next, rev, now, actor);
        return;
    }
    row.state = RevState::Failed;
    row.updated_at = now.max(row.updated_at);
    let (branch, draft_rev) = (row.branch.clone(), row.draft_revision);
    if let Some(b) = next.branches.iter_mut().find(|b| Some(&b.id) == branch.as_ref()) {
        b.publishing = None;
        if let Some(d) = b.draft.as_mut() {
            d.failed_at = draft_rev;
        }
    }
}

pub(super) fn restore(
    next: &mut AgentRecord,
    branch: &str,
    revision_id: &str,
    new_id: &str,
    now: Millis,
    actor: Actor<'_>,
) -> Result<(), DomainError> {
    let i = next.branch_index(branch)?;
    if next.branches[i].archived {
        return Err(DomainError::Forbidden("Archived branches cannot be restored".into()));
    }
    let src = next.version(revision_id).ok_or_else(|| DomainError::NotFound("Revision not found".into()))?;
    if src.branch.as_deref() != Some(branch) || !src.is_committed() {
        let failed = src.state == RevState::Failed;
        return Err(if failed {
            DomainError::Forbidden("The revision's security check failed; it cannot be restored".into())
        } else {
            DomainError::invalid("Revision does not belong to this branch")
        });
    }
    if next.branches[i].publishing.is_some() {
        return Err(in_progress());
    }
    let mut row = src.clone();
    row.restored_from =
        Some(Box::new(Restored { revision_id: src.id.to_string(), label: src.label.as_deref().map(str::to_string) }));
    row.id = new_id.into();
    row.number = next_number(next);
    row.label = None;
    row.description = None;
    row.is_pinned = false;
    row.published_by = actor.into();
    row.published_at = now;
    row.activated_by = None;
    row.activated_at = None;
    row.parent_version = next.branches[i].head_revision_id.as_deref().map(str::to_string);
    row.security_passes_at = now;
    row.updated_at = now;
    row.legacy_number = false;
    row.state = RevState::Scanning;
    next.versions.push(row);
    commit(next, new_id, now, actor);
    Ok(())
}
