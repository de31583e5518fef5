//! Wire shapes of v2 versioning: `Branch`, `BranchSummary`, `Revision`,
//! `DraftDetail` and `PublishResult` (BEHAVIOR R070, R071, R084, R086,
//! R099), rendered from the domain record.

use serde_json::{json, Value};

use super::render::{blocks, prompt_score, EDITOR_NAME};
use crate::domain::branches::{Branch, BranchDraft};
use crate::domain::config;
use crate::domain::page::Page;
use crate::domain::time::{iso, opt_iso};
use crate::domain::versioning::{AgentRecord, RevState, Version};
use crate::domain::Millis;

/// `Branch` (R071).
pub(crate) fn branch(rec: &AgentRecord, b: &Branch) -> Value {
    json!({
        "_id": b.id,
        "agent": rec.agent.id,
        "name": b.name,
        "isDefault": b.is_default,
        "sourceBranchId": b.source_branch_id,
        "sourceRevisionId": b.source_revision_id,
        "headRevisionId": b.head_revision_id,
        "openDraftId": b.open_draft().map(|d| d.id.clone()),
        "status": if b.archived { "archived" } else { "active" },
        "createdBy": b.created_by,
        "updatedBy": b.updated_by,
        "createdAt": iso(b.created_at),
        "updatedAt": iso(b.updated_at),
    })
}

/// `BranchSummary` (R070): the branch plus `isLive`, `hasOpenDraft`,
/// `revisionsCount` (committed) and `headRevisionNumber`.
pub(crate) fn summary(rec: &AgentRecord, b: &Branch) -> Value {
    json!({
        "branch": branch(rec, b),
        "isLive": rec.live_branch == b.id,
        "hasOpenDraft": b.open_draft().is_some(),
        "revisionsCount": rec.branch_revisions(&b.id).filter(|v| v.is_committed()).count(),
        "headRevisionNumber": rec.head(b).and_then(|v| v.revision_number),
    })
}

fn security(v: &Version, now: Millis) -> Value {
    let status = v.security_status(now);
    let done = matches!(status, "passed" | "failed");
    json!({
        "status": status,
        "reason": if status == "failed" { json!("Security scan failed (forced by the mock's scan switch)") } else { Value::Null },
        "triggeredAt": iso(v.published_at),
        "completedAt": if done { json!(iso(v.security_passes_at.max(v.published_at))) } else { Value::Null },
    })
}

/// A committed, scanning, failed or cancelled row as `Revision` (R099).
/// Only committed rows are `status: "published"`; the others are the
/// transient `draft` (L-D5). `promptScore` is the cached score of the
/// revision (`POST /prompt-scoring/score`; `null` before), `promptScoreStale`
/// whether its prompt, tools or variables differ from what was scored.
pub(crate) fn revision(rec: &AgentRecord, v: &Version, now: Millis) -> Value {
    let pending = match v.state {
        RevState::Scanning => json!({"state": "active", "startedBy": v.published_by, "startedAt": iso(v.published_at)}),
        RevState::Cancelled => {
            json!({"state": "cancelled", "startedBy": v.published_by, "startedAt": iso(v.published_at)})
        }
        RevState::Committed | RevState::Failed => Value::Null,
    };
    let restored = v.restored_from.as_ref();
    let (score, stale) = prompt_score(rec, &v.id, &v.config);
    json!({
        "_id": v.id,
        "agent": rec.agent.id,
        "status": if v.is_committed() { "published" } else { "draft" },
        "branch": v.branch,
        "revisionNumber": v.revision_number,
        "versionNumber": if v.legacy_number { json!(v.number) } else { Value::Null },
        "label": v.label,
        "description": v.description,
        "isPinned": v.is_pinned,
        "publishedBy": v.published_by,
        "publishedAt": iso(v.published_at),
        "publishedByName": EDITOR_NAME,
        "restoredFromLabel": restored.and_then(|r| r.label.clone()),
        "restoredFromRevisionId": restored.map(|r| r.revision_id.clone()),
        "draftId": v.draft_id,
        "draftName": Value::Null,
        "draftRevision": v.draft_revision,
        "sourceVersionId": v.parent_version,
        "sourceDraftId": Value::Null,
        "blocks": blocks(&v.blocks),
        "workflowType": rec.agent.workflow_type,
        "parentVersion": v.parent_version,
        "isActive": rec.agent.active_version_id == v.id,
        "activatedBy": v.activated_by,
        "activatedAt": opt_iso(v.activated_at),
        "securityCheck": security(v, now),
        "pendingPublish": pending,
        "promptScore": score,
        "promptScoreStale": stale,
        "createdBy": v.published_by,
        "createdAt": iso(v.published_at),
        "updatedAt": iso(v.updated_at),
    })
}

/// A branch's open draft as `Revision` with `status: "draft"` at draft
/// revision `at` (R080). Config fields are not echoed; `promptScore` is
/// its cached score (`POST /prompt-scoring/score`), `promptScoreStale`
/// whether the prompt changed since.
pub(crate) fn draft(rec: &AgentRecord, b: &Branch, d: &BranchDraft, at: u32) -> Value {
    let failed = d.failed_at == Some(at);
    let (score, stale) = prompt_score(rec, &d.id, &d.config);
    json!({
        "_id": d.id,
        "agent": rec.agent.id,
        "status": "draft",
        "branch": b.id,
        "revisionNumber": Value::Null,
        "versionNumber": Value::Null,
        "label": Value::Null,
        "description": Value::Null,
        "isPinned": false,
        "publishedBy": Value::Null,
        "publishedAt": Value::Null,
        "publishedByName": Value::Null,
        "restoredFromLabel": Value::Null,
        "restoredFromRevisionId": Value::Null,
        "draftId": d.id,
        "draftName": Value::Null,
        "draftRevision": at,
        "sourceVersionId": d.base_revision_id,
        "sourceDraftId": Value::Null,
        "blocks": blocks(&d.blocks),
        "workflowType": rec.agent.workflow_type,
        "parentVersion": d.base_revision_id,
        "isActive": false,
        "activatedBy": Value::Null,
        "activatedAt": Value::Null,
        "securityCheck": if failed { json!({"status": "failed", "reason": "Security scan failed", "triggeredAt": Value::Null, "completedAt": Value::Null}) } else { Value::Null },
        "pendingPublish": Value::Null,
        "promptScore": score,
        "promptScoreStale": stale,
        "createdBy": d.created_by,
        "createdAt": iso(d.created_at),
        "updatedAt": iso(d.updated_at),
    })
}

/// `DraftDetail` (R084): `{latest, editCount, editHistory}`, newest edit
/// first.
pub(crate) fn draft_detail(rec: &AgentRecord, b: &Branch, d: &BranchDraft) -> Value {
    let history: Vec<Value> = d
        .history
        .iter()
        .rev()
        .map(|e| {
            json!({"revision": draft(rec, b, d, e.revision), "changedSections": e.changed_sections, "editorName": EDITOR_NAME})
        })
        .collect();
    json!({"latest": draft(rec, b, d, d.revision), "editCount": d.edit_count(), "editHistory": history})
}

/// `PublishResult` (R086, L-D3): `committed` with the revision, or
/// `scanning` without it. The bool says whether it committed (200).
pub(crate) fn publish_result(rec: &AgentRecord, rev: &str, now: Millis) -> (bool, Value) {
    match rec.version(rev) {
        Some(v) if v.is_committed() => (true, json!({"state": "committed", "revision": revision(rec, v, now)})),
        _ => (false, json!({"state": "scanning"})),
    }
}

/// `GET …/revisions` (R091): the page of the branch's committed and
/// scanning rows, newest first, as `{revisions, total}`; `None` for an
/// unknown branch.
pub(crate) fn revision_list(rec: &AgentRecord, branch: &str, page: Page, now: Millis) -> Option<Value> {
    rec.branch(branch)?;
    let total = rec.branch_revisions(branch).count();
    let list: Vec<Value> = page.of(rec.branch_revisions(branch)).map(|v| revision(rec, v, now)).collect();
    Some(json!({"revisions": list, "total": total}))
}

/// One revision with its fully merged config (R092, LIVE V3):
/// `{revision, resolvedConfig}`, where `resolvedConfig` holds the fields
/// as `GET /agent` names them and the same config keyed by section.
pub(crate) fn revision_detail(rec: &AgentRecord, v: &Version, now: Millis) -> Value {
    let mut resolved = config::resolved(&v.config);
    resolved.extend(config::by_section(&v.config));
    json!({"revision": revision(rec, v, now), "resolvedConfig": resolved})
}

/// A revision's history (R093): `{revision, publishedBy, trail}`, the
/// earlier committed revisions of its branch, oldest first, each with the
/// sections it changed against the one before.
pub(crate) fn revision_history(rec: &AgentRecord, v: &Version, now: Millis) -> Value {
    let branch = v.branch.as_deref().unwrap_or_default();
    let mut chain: Vec<&Version> = rec.branch_revisions(branch).filter(|x| x.is_committed()).collect();
    chain.reverse();
    let before: Vec<&Version> = chain.into_iter().take_while(|x| x.id != v.id).collect();
    let trail: Vec<Value> = before
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let prev = i.checked_sub(1).map_or(&x.config, |p| &before[p].config);
            let sections = config::changed_sections(&config::leaf_changes(prev, &x.config));
            json!({"revision": revision(rec, x, now), "changedSections": sections})
        })
        .collect();
    json!({"revision": revision(rec, v, now), "publishedBy": v.published_by, "trail": trail})
}
