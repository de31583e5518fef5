//! v2 publishing and revisions: `…/branches/{branchId}/draft/publish`,
//! `…/revisions…`, `…/test-call` and `GET /agent/{id}/diff` (BEHAVIOR
//! R086–R098). Publish answers 200 `committed` or 202 `scanning`; a scan
//! lasts `--security-check-secs` on the mock's clock and fails when the
//! organization's scan switch says so (`PUT /_admin/versioning`).

use std::sync::Arc;

use crate::http::routes::{router, OpenApiRouter};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::branches::{branch_not_found, read_v2};
use super::render_v2;
use super::requests::PublishBranchDraftRequest;
use super::versions::history_page;
use crate::domain::branches::BranchCommand;
use crate::domain::config;
use crate::domain::ids::is_object_id;
use crate::domain::versioning::{AgentRecord, Version};
use crate::domain::{DomainError, Millis};
use crate::http::calls::conversations::Pin;
use crate::http::calls::requests::BranchTestCallRequest;
use crate::http::calls::test_calls::{start_test_call, TestCallKind};
use crate::http::error::{ApiError, ApiResult, Reply};
use crate::http::extract::{ApiJson, ApiQuery, OrgPath};
use crate::http::ids::{AgentId, BranchId, RevisionId};
use crate::http::render;
use crate::state::AppState;
use crate::store::Tenant;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        publish_branch_draft,
        cancel_branch_publish,
        list_revisions,
        get_revision,
        get_revision_history,
        restore_revision,
        branch_test_call
    ]
}

/// `GET /agent/{id}/diff` (R098), which has its own gate.
pub(crate) fn diff_router() -> OpenApiRouter<AppState> {
    router![diff_refs]
}

fn revision_not_found() -> ApiError {
    ApiError::Rule(DomainError::NotFound("Revision not found".into()))
}

/// `200 committed` or `202 scanning` (R086, L-D3).
fn publish_response(committed: bool, data: Value) -> Response {
    let status = if committed { StatusCode::OK } else { StatusCode::ACCEPTED };
    (status, Json(render::success(data))).into_response()
}

/// Runs a publish-like command that creates row `rev` and answers with
/// its `PublishResult`.
fn run_publish(s: &AppState, t: &Arc<Tenant>, id: &AgentId, cmd: BranchCommand, rev: &str) -> Reply {
    let now = s.store.clock().now();
    let (committed, data) =
        s.store.execute_branch(t, id, cmd, Some(rev), |r| render_v2::publish_result(r, rev, now))?;
    Ok(publish_response(committed, data))
}

/// Publish the open draft (R086–R089), optional body `{label ≤200}`. 200
/// `{state: "committed", revision}` when the content already passed a
/// scan on this agent (a re-publish) or scans take 0 s; otherwise 202
/// `{state: "scanning"}` and the revision commits when its scan passes
/// (poll `…/revisions?limit=1`, then the revision until `status` is
/// `published`). On the live branch the commit is the active config at
/// once. Errors: no draft or branch 404; archived 403; 409
/// `publish_in_progress`; 409 `security_scan_failed` for unchanged
/// content whose scan failed (L-D4).
#[utoipa::path(post, path = "/agent/{id}/branches/{branchId}/draft/publish", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    request_body = PublishBranchDraftRequest,
    responses((status = 200, description = "PublishResult `committed`"), (status = 202, description = "PublishResult `scanning`"),
              (status = 403, description = "Archived"), (status = 404, description = "No draft / not found"), (status = 409, description = "ConflictErrorResponse"), (status = 423, description = "A config freeze is active: `config_freeze_active` (R017)")))]
async fn publish_branch_draft(
    OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>,
    ApiJson(body): ApiJson<PublishBranchDraftRequest>,
) -> Reply {
    let revision_id = s.store.ids().object_id(s.store.clock().now());
    let scan_fails = t.versioning().scan_fails;
    let cmd = BranchCommand::Publish {
        branch: branch.into_string(),
        revision_id: revision_id.clone(),
        label: body.label,
        scan_fails,
    };
    run_publish(&s, &t, &id, cmd, &revision_id)
}

/// Cancel a scanning publish (R090): `{cancelled: true}`, idempotent. The
/// draft stays open; the cancelled row is readable by id with
/// `pendingPublish.state: "cancelled"`.
#[utoipa::path(post, path = "/agent/{id}/branches/{branchId}/draft/publish/cancel", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    responses((status = 200, description = "`{cancelled: true}`"), (status = 404, description = "Not found")))]
async fn cancel_branch_publish(OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>) -> Reply {
    s.store.execute_branch(&t, &id, BranchCommand::CancelPublish { branch: branch.into_string() }, None, |_| ())?;
    Ok(render::ok(json!({"cancelled": true})))
}

/// Query of the revision list (R091).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RevisionsQuery {
    /// 1–100, default 20.
    limit: Option<i64>,
    /// Default 0.
    skip: Option<i64>,
}

/// Committed and scanning revisions, newest first: `{revisions, total}`
/// (R091).
#[utoipa::path(get, path = "/agent/{id}/branches/{branchId}/revisions", tag = "Agent Versioning - Revisions",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id"), RevisionsQuery),
    responses((status = 200, description = "`{revisions: [Revision], total}`"), (status = 400, description = "Bad limit/skip"), (status = 404, description = "Not found")))]
async fn list_revisions(
    OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>,
    ApiQuery(q): ApiQuery<RevisionsQuery>,
) -> Reply {
    let page = history_page(q.limit, q.skip)?;
    let now = s.store.clock().now();
    let out = read_v2(&s, &t, &id, |r| render_v2::revision_list(r, &branch, page, now))?;
    Ok(render::ok(out.ok_or_else(branch_not_found)?))
}

/// The row `rev` of `branch`: 404 when unknown, 400 when it belongs to
/// another branch (R092).
fn row_on<'a>(r: &'a AgentRecord, branch: &str, rev: &str) -> ApiResult<&'a Version> {
    r.branch(branch).ok_or_else(branch_not_found)?;
    let v = r.version(rev).ok_or_else(revision_not_found)?;
    if v.branch.as_deref() != Some(branch) {
        return Err(ApiError::BadRequest("Revision does not belong to this branch".into()));
    }
    Ok(v)
}

/// Reads row `rev` of `branch` ([`row_on`]: 404 unknown branch or
/// revision, 400 another branch's) and answers 200 with `shape` of it at
/// the clock's now (R092, R093).
fn read_row(
    s: &AppState,
    t: &Tenant,
    id: &AgentId,
    branch: &str,
    rev: &str,
    shape: fn(&AgentRecord, &Version, Millis) -> Value,
) -> Reply {
    let now = s.store.clock().now();
    let out = read_v2(s, t, id, |r| row_on(r, branch, rev).map(|v| shape(r, v, now)))??;
    Ok(render::ok(out))
}

/// One revision with its fully merged config: `{revision, resolvedConfig}`
/// (R092). `resolvedConfig` holds the config's fields (as `GET /agent`
/// names them, with the `_resolvedConfig` aliases) and, beside them, the
/// same config keyed by section as in v1 version reads: the SDK's
/// `AgentTools` reads the tools at `resolvedConfig.workflow_tools.tools`
/// (LIVE V3). Another branch's revision: 400.
#[utoipa::path(get, path = "/agent/{id}/branches/{branchId}/revisions/{revisionId}", tag = "Agent Versioning - Revisions",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id"),
           ("revisionId" = RevisionId, Path, description = "Revision id (= v1 versionId)")),
    responses((status = 200, description = "`{revision, resolvedConfig}`"), (status = 400, description = "Other branch / malformed"), (status = 404, description = "Not found")))]
async fn get_revision(OrgPath(s, t, (id, branch, rev)): OrgPath<(AgentId, BranchId, RevisionId)>) -> Reply {
    read_row(&s, &t, &id, &branch, &rev, render_v2::revision_detail)
}

/// A revision's history: `{revision, publishedBy, trail: [{revision,
/// changedSections}]}`, the earlier committed revisions of the branch,
/// oldest first, each with the sections it changed against the one
/// before (R093).
#[utoipa::path(get, path = "/agent/{id}/branches/{branchId}/revisions/{revisionId}/history", tag = "Agent Versioning - Revisions",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id"),
           ("revisionId" = RevisionId, Path, description = "Revision id")),
    responses((status = 200, description = "`{revision, publishedBy, trail}`"), (status = 400, description = "Other branch"), (status = 404, description = "Not found")))]
async fn get_revision_history(OrgPath(s, t, (id, branch, rev)): OrgPath<(AgentId, BranchId, RevisionId)>) -> Reply {
    read_row(&s, &t, &id, &branch, &rev, render_v2::revision_history)
}

/// Restore (R094, R095): copies the revision's config into a **new**
/// revision at the head (`restoredFromRevisionId`, `restoredFromLabel`);
/// the open draft is untouched; on the live branch it is active at once.
/// The source already passed its scan, so this answers 200 `committed`.
/// Failed source: 403; publish in flight: 409 `publish_in_progress`.
#[utoipa::path(post, path = "/agent/{id}/branches/{branchId}/revisions/{revisionId}/restore", tag = "Agent Versioning - Revisions",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id"),
           ("revisionId" = RevisionId, Path, description = "Revision to copy")),
    responses((status = 200, description = "PublishResult `committed`"), (status = 400, description = "Other branch"), (status = 403, description = "Failed scan / archived"),
              (status = 404, description = "Not found"), (status = 409, description = "`publish_in_progress`"), (status = 423, description = "A config freeze is active: `config_freeze_active` (R017)")))]
async fn restore_revision(OrgPath(s, t, (id, branch, rev)): OrgPath<(AgentId, BranchId, RevisionId)>) -> Reply {
    let new_id = s.store.ids().object_id(s.store.clock().now());
    let cmd =
        BranchCommand::Restore { branch: branch.into_string(), revision_id: rev.into_string(), new_id: new_id.clone() };
    run_publish(&s, &t, &id, cmd, &new_id)
}

/// What a branch test call runs (R096, R097): the open draft (404
/// `Draft not found` without one), that committed revision of the branch
/// (404 `Revision not found`), or the head (409 `no_committed_revision`).
fn test_pin(r: &AgentRecord, branch: &str, body: &BranchTestCallRequest) -> ApiResult<Pin> {
    let b = r.branch(branch).ok_or_else(branch_not_found)?;
    if body.include_draft == Some(true) {
        let draft = b.open_draft().map(|_| Pin::BranchDraft(branch.to_string()));
        return draft.ok_or_else(|| ApiError::Rule(DomainError::NotFound("Draft not found".into())));
    }
    if let Some(rev) = &body.revision_id {
        let v = r.version(rev).filter(|v| v.is_committed() && v.branch.as_deref() == Some(branch));
        return v.map(|v| Pin::Version(v.id.to_string())).ok_or_else(revision_not_found);
    }
    let no_commit = || DomainError::typed("no_committed_revision", "Branch has no committed revision").into();
    b.head_revision_id.as_deref().map(|id| Pin::Version(id.to_string())).ok_or_else(no_commit)
}

/// Test-call a branch (R096, R097): body `{includeDraft?, revisionId?,
/// mode?: webcall|chat|telephony, toPhone?}`. The open draft, that
/// committed revision, or the head. Returns `{conversationId, callId}`
/// plus `token`, `roomName`, `host` for webcall and chat. Both targets:
/// 400; no draft or unknown revision: 404; no commit: 409.
#[utoipa::path(post, path = "/agent/{id}/branches/{branchId}/test-call", tag = "Agent Versioning - Branches",
    params(("id" = AgentId, Path, description = "Agent id"), ("branchId" = BranchId, Path, description = "Branch id")),
    request_body = BranchTestCallRequest,
    responses((status = 200, description = "TestCallResult"), (status = 400, description = "Bad body"), (status = 404, description = "Not found"),
              (status = 409, description = "`no_committed_revision`"), (status = 403, description = "workflow_graph agent without conversational-agents access")))]
async fn branch_test_call(
    OrgPath(s, t, (id, branch)): OrgPath<(AgentId, BranchId)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BranchTestCallRequest>,
) -> Reply {
    let pin = read_v2(&s, &t, &id, |r| test_pin(r, &branch, &body))??;
    let call = start_test_call(&s, &t, &headers, &body.call(), &id, pin, TestCallKind::Version)?;
    Ok(render::ok(call))
}

/// Query of `GET /agent/{id}/diff` (R098).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiffRefs {
    /// `<revisionId>` or `<branchId>:draft`, 1–64 characters.
    a: Option<String>,
    /// `<revisionId>` or `<branchId>:draft`, 1–64 characters.
    b: Option<String>,
}

impl DiffRefs {
    /// Both refs: 400 `<a|b>: Required (1-64 characters)` otherwise.
    fn refs(self) -> Result<[(&'static str, String); 2], DomainError> {
        let named = |name: &'static str, v: Option<String>| {
            let v = v.filter(|v| (1..=64).contains(&v.chars().count()));
            v.map(|v| (name, v)).ok_or_else(|| DomainError::invalid(format!("{name}: Required (1-64 characters)")))
        };
        Ok([named("a", self.a)?, named("b", self.b)?])
    }
}

fn config_of(r: &AgentRecord, name: &str, reference: &str) -> ApiResult<config::Config> {
    if let Some(branch) = reference.strip_suffix(":draft") {
        let b = r.branch(branch).ok_or_else(branch_not_found)?;
        return b
            .draft
            .as_ref()
            .map(|d| d.config.clone())
            .ok_or_else(|| ApiError::Rule(DomainError::NotFound("Draft not found".into())));
    }
    if !is_object_id(reference) {
        return Err(ApiError::BadRequest(format!("{name}: expected a revision id or <branchId>:draft")));
    }
    r.version(reference).map(|v| v.config.clone()).ok_or_else(revision_not_found)
}

/// Diff two refs of one agent (R098): each a revision id or
/// `<branchId>:draft`, possibly on different branches. Returns
/// `{unchangedSections, diffs: [{section, changes: [{path, oldValue,
/// newValue}]}]}` from `a` to `b`.
#[utoipa::path(get, path = "/agent/{id}/diff", tag = "Agent Versioning - Revisions",
    params(("id" = AgentId, Path, description = "Agent id"), DiffRefs),
    responses((status = 200, description = "DiffResult"), (status = 400, description = "Missing or malformed ref"), (status = 404, description = "Not found")))]
async fn diff_refs(OrgPath(s, t, id): OrgPath<AgentId>, ApiQuery(q): ApiQuery<DiffRefs>) -> Reply {
    let [(na, a), (nb, b)] = q.refs()?;
    let out = read_v2(&s, &t, &id, |r| {
        Ok::<_, ApiError>(config::version_diff(&*config_of(r, na, &a)?, &*config_of(r, nb, &b)?))
    })??;
    Ok(render::ok(out))
}
