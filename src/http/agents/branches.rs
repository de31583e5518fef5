//! v2 branches and their open draft: `/agent/{id}/branches…` (BEHAVIOR
//! R069–R085). Served to organizations in v2 mode only (the gate in
//! `gate` answers 404 in v1 mode). Unknown or foreign agents
//! give 404 `Agent not found`; unknown branches 404 `Resource not found`;
//! malformed branch ids 400 `Invalid branch id`. 409s carry `error_type`
//! (`ConflictErrorResponse`).

use std::sync::Arc;

use crate::http::routes::{router, OpenApiRouter};
use serde_json::{json, Value};

use super::render_v2;
use super::requests::{BranchDraftRequest, CreateBranchRequest, RenameBranchRequest};
use crate::domain::branches::{migrated, BranchCommand};
use crate::domain::versioning::AgentRecord;
use crate::domain::DomainError;
use crate::http::error::{ApiError, ApiResult, Reply};
use crate::http::extract::{ApiJson, OrgPath};
use crate::http::ids::{AgentId, BranchId};
use crate::http::render;
use crate::state::AppState;
use crate::store::Tenant;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        (list_branches, create_branch),
        (get_branch, rename_branch),
        archive_branch,
        make_branch_live,
        (get_branch_draft, put_branch_draft, discard_branch_draft)
    ]
}

/// 404 `Resource not found` (R074).
pub(crate) fn branch_not_found() -> ApiError {
    ApiError::Rule(DomainError::NotFound("Resource not found".into()))
}

/// Reads the agent as v2 sees it (v1 rows backfilled, see `migrated`).
pub(crate) fn read_v2<R>(s: &AppState, t: &Tenant, id: &AgentId, f: impl FnOnce(&AgentRecord) -> R) -> ApiResult<R> {
    Ok(s.store.read_agent(t, id, |r| f(&migrated(r)))?)
}

/// Runs `cmd` and renders the branch `branch` as a `BranchSummary`
/// (`summary`) or a `Branch`.
fn run(
    s: &AppState,
    t: &Arc<Tenant>,
    id: &AgentId,
    cmd: BranchCommand,
    branch: &str,
    summary: bool,
) -> ApiResult<Value> {
    let out = s.store.execute_branch(t, id, cmd, None, |r| {
        r.branch(branch).map(|b| if summary { render_v2::summary(r, b) } else { render_v2::branch(r, b) })
    })?;
    Ok(out.unwrap_or(Value::Null))
}

/// List the non-archived branches as `{branches: [BranchSummary]}`
/// (R070), oldest first; `Main` comes first.
#[utoipa::path(get, path = "/agent/{id}/branches", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id")),
    responses((status = 200, description = "`{branches: [BranchSummary]}`"), (status = 404, description = "Agent not found")))]
async fn list_branches(OrgPath(s, t, id): OrgPath<AgentId>) -> Reply {
    let list = read_v2(&s, &t, &id, |r| {
        r.branches.iter().filter(|b| !b.archived).map(|b| render_v2::summary(r, b)).collect::<Vec<_>>()
    })?;
    Ok(render::ok(json!({"branches": list})))
}

/// Fork a branch from `sourceBranchId`'s head: `{sourceBranchId, name
/// (1–100)}` → 201 `Branch` with `sourceRevisionId` = the source head and
/// no head of its own (R072). 409 `branch_name_exists` (names are unique
/// among active branches; `Main` is reserved in any case),
/// `source_has_no_commit`, `source_scanning` (R073); unknown source 404.
/// An agent with 1000 active branches: 400 `Branch limit reached: …` (a
/// mock bound, `domain::history_budget` AH6).
#[utoipa::path(post, path = "/agent/{id}/branches", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id")),
    request_body = CreateBranchRequest,
    responses((status = 201, description = "Branch"), (status = 400, description = "Missing or bad field"),
              (status = 404, description = "Agent or source not found"), (status = 409, description = "ConflictErrorResponse"), (status = 423, description = "A config freeze is active: `config_freeze_active` (R017)")))]
async fn create_branch(OrgPath(s, t, id): OrgPath<AgentId>, ApiJson(body): ApiJson<CreateBranchRequest>) -> Reply {
    let new_id = s.store.ids().object_id(s.store.clock().now());
    let cmd = BranchCommand::Create { id: new_id.clone(), source_branch_id: body.source_branch_id, name: body.name };
    Ok(render::created(run(&s, &t, &id, cmd, &new_id, false)?))
}

/// One branch as `BranchSummary` (R074); archived branches are still
/// readable here with `status: "archived"`.
#[utoipa::path(get, path = "/agent/{id}/branches/{branchId}", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    responses((status = 200, description = "BranchSummary"), (status = 404, description = "Not found")))]
async fn get_branch(OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>) -> Reply {
    let out = read_v2(&s, &t, &id, |r| r.branch(&branch).map(|b| render_v2::summary(r, b)))?;
    Ok(render::ok(out.ok_or_else(branch_not_found)?))
}

/// Rename: `{name}` 1–100 → `Branch` (R077). The default branch and
/// archived branches: 403. A name in use: 409 `branch_name_exists`.
#[utoipa::path(patch, path = "/agent/{id}/branches/{branchId}", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    request_body = RenameBranchRequest,
    responses((status = 200, description = "Branch"), (status = 400, description = "Bad name"), (status = 403, description = "Default or archived"),
              (status = 404, description = "Not found"), (status = 409, description = "`branch_name_exists`"), (status = 423, description = "A config freeze is active: `config_freeze_active` (R017)")))]
async fn rename_branch(
    OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>,
    ApiJson(body): ApiJson<RenameBranchRequest>,
) -> Reply {
    let cmd = BranchCommand::Rename { branch: branch.to_string(), name: body.name };
    Ok(render::ok(run(&s, &t, &id, cmd, &branch, false)?))
}

/// Archive a branch: `{archived: true}` (R078). The default and the live
/// branch: 403. Idempotent; revisions stay readable by id. An agent keeps
/// at most 100 archived branches: past it, the oldest archived ones are
/// forgotten and answer 404 (a mock bound, `domain::history_budget` AH6).
#[utoipa::path(post, path = "/agent/{id}/branches/{branchId}/archive", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    responses((status = 200, description = "`{archived: true}`"), (status = 403, description = "Default or live branch"), (status = 404, description = "Not found"), (status = 423, description = "A config freeze is active: `config_freeze_active` (R017)")))]
async fn archive_branch(OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>) -> Reply {
    run(&s, &t, &id, BranchCommand::Archive { branch: branch.to_string() }, &branch, false)?;
    Ok(render::ok(json!({"archived": true})))
}

/// Make a branch live (R079): its head becomes the agent's active config
/// (`activeVersionId` and `versionId`), the previous live branch stops
/// being live. Archived branch or head not past its scan: 403. No commit:
/// 409 `no_committed_revision`. Idempotent for the live branch.
#[utoipa::path(post, path = "/agent/{id}/branches/{branchId}/live", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    responses((status = 200, description = "BranchSummary with `isLive: true`"), (status = 403, description = "Archived / unscanned head"),
              (status = 404, description = "Not found"), (status = 409, description = "`no_committed_revision`"), (status = 423, description = "A config freeze is active: `config_freeze_active` (R017)")))]
async fn make_branch_live(OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>) -> Reply {
    Ok(render::ok(run(&s, &t, &id, BranchCommand::MakeLive { branch: branch.to_string() }, &branch, true)?))
}

/// The branch's draft as `DraftDetail` `{latest, editCount, editHistory}`
/// (R084). A branch keeps its latest draft document after a publish (LIVE
/// V2): clients read `latest.draftRevision` right after publishing and
/// send it as the next edit's `expectedRevision`. 404 `Draft not found`
/// only for a branch that never had a draft (or whose draft was
/// discarded).
#[utoipa::path(get, path = "/agent/{id}/branches/{branchId}/draft", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    responses((status = 200, description = "DraftDetail"), (status = 404, description = "Not found / no open draft")))]
async fn get_branch_draft(OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>) -> Reply {
    let out = read_v2(&s, &t, &id, |r| {
        let b = r.branch(&branch).ok_or_else(branch_not_found)?;
        let d = b.draft.as_ref().ok_or_else(|| ApiError::Rule(DomainError::NotFound("Draft not found".into())))?;
        Ok::<_, ApiError>(render_v2::draft_detail(r, b, d))
    })??;
    Ok(render::ok(out))
}

/// Upsert the branch's single open draft with a partial config in the
/// `GET /agent` camelCase shape (R080), merged like v1 config edits: every
/// field is validated first (400 naming it), objects merge key by key,
/// arrays and scalars replace. Returns `Revision` (`status: draft`,
/// `draftId`, new `draftRevision`, 1 after the first PUT). No recognized
/// field, or an internal section name: 400 `No recognized config fields
/// in request body` (R081). `expectedRevision` (integer ≥ 0) turns on the
/// leaf-level conflict check: 409 `DraftConflictError` listing the
/// conflicting paths, or 409 `["base_revision_unavailable"]` (R082, R083).
#[utoipa::path(put, path = "/agent/{id}/branches/{branchId}/draft", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    request_body = BranchDraftRequest,
    responses((status = 200, description = "Revision (draft)"), (status = 400, description = "Invalid field / none recognized"),
              (status = 403, description = "Archived branch"), (status = 404, description = "Not found"),
              (status = 409, description = "DraftConflictError / base_revision_unavailable"), (status = 423, description = "A config freeze is active: `config_freeze_active` (R017)")))]
async fn put_branch_draft(
    OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>,
    ApiJson(body): ApiJson<BranchDraftRequest>,
) -> Reply {
    let draft_id = s.store.ids().object_id(s.store.clock().now());
    let (patch, expected_revision) = (body.0.patch, body.0.expected_revision);
    let cmd = BranchCommand::PutDraft { branch: branch.to_string(), draft_id, patch, expected_revision };
    let out = s.store.execute_branch(&t, &id, cmd, None, |r| {
        let b = r.branch(&branch)?;
        b.draft.as_ref().map(|d| render_v2::draft(r, b, d, d.revision))
    })?;
    Ok(render::ok(out.unwrap_or(Value::Null)))
}

/// Discard the open draft: `{discarded: true}` (R085). The head is
/// unchanged. No open draft: 404.
#[utoipa::path(delete, path = "/agent/{id}/branches/{branchId}/draft", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    responses((status = 200, description = "`{discarded: true}`"), (status = 404, description = "Not found / no open draft")))]
async fn discard_branch_draft(OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>) -> Reply {
    run(&s, &t, &id, BranchCommand::DiscardDraft { branch: branch.to_string() }, &branch, false)?;
    Ok(render::ok(json!({"discarded": true})))
}
