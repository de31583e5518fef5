//! v1 versions: `/agent/{id}/versions…` (BEHAVIOR R057–R064). Unknown or
//! foreign agents give 404 `Agent not found`, unknown versions 404
//! `Version not found`, malformed version ids 400 `Invalid version id`.

use crate::http::routes::{router, OpenApiRouter};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::render;
use super::requests::UpdateVersionRequest;
use crate::domain::page::Page;
use crate::domain::versioning::{AgentRecord, Command};
use crate::domain::{config, config_diff, DomainError};
use crate::http::calls::conversations::Pin;
use crate::http::calls::requests::TestCallRequest;
use crate::http::calls::test_calls::{start_test_call, TestCallKind};
use crate::http::error::{ApiError, ApiResult, Reply};
use crate::http::extract::{ApiJson, ApiQuery, OrgPath};
use crate::http::ids::{AgentId, VersionId};
use crate::http::render::ok;
use crate::state::AppState;
use crate::store::Tenant;

/// The list and the version writes: deprecated on the branch model (R075).
pub(crate) fn writes() -> OpenApiRouter<AppState> {
    router![list_versions, update_version, activate_version]
}

/// The by-id reads, the diff and the test call: kept on the branch model
/// (R076).
pub(crate) fn reads() -> OpenApiRouter<AppState> {
    router![diff_versions, get_version, version_test_call]
}

fn version_not_found() -> ApiError {
    ApiError::Rule(DomainError::NotFound("Version not found".into()))
}

/// Runs v1 command `cmd` on agent `id` (one locked write,
/// `Store::execute`) and renders version `vid` of the record it leaves as
/// `AgentVersion` ([`render::version`] at the clock's now); `null` when
/// there is no such version. Errors are the command's: 404 `Agent not
/// found`, `Version not found`, `Draft not found`, 400 validation, 409 on
/// the branch model (R055–R061, R075).
pub(super) fn execute_rendering(s: &AppState, t: &Tenant, id: &AgentId, cmd: &Command, vid: &str) -> ApiResult<Value> {
    let now = s.store.clock().now();
    let out = s.store.execute(t, id, cmd, |r| r.version(vid).map(|v| render::version(r, v, now)))?;
    Ok(out.unwrap_or(Value::Null))
}

/// `limit` (1–100, default 20) and `skip` (≥ 0, default 0) of the v1 and
/// v2 history lists (R059, R091): 400 `limit must be between 1 and 100
/// and skip must be at least 0` otherwise.
pub(crate) fn history_page(limit: Option<i64>, skip: Option<i64>) -> Result<Page, DomainError> {
    let (limit, skip) = (limit.unwrap_or(20), skip.unwrap_or(0));
    match (usize::try_from(limit), usize::try_from(skip)) {
        (Ok(l @ 1..=100), Ok(s)) => Ok(Page::window(s, l)),
        _ => Err(DomainError::invalid("limit must be between 1 and 100 and skip must be at least 0")),
    }
}

/// Query of `GET /agent/{id}/versions` (R059).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct ListVersionsQuery {
    /// 1–100, default 20.
    limit: Option<i64>,
    /// Default 0.
    skip: Option<i64>,
    /// Filter by pin state.
    is_pinned: Option<bool>,
}

/// List published versions, newest first, with `publishedByName` and
/// `activatedByName` (R059). `total` counts all published versions even
/// when `isPinned` filters the list.
#[utoipa::path(get, path = "/agent/{id}/versions", tag = "Agent Versioning - Versions",
    params(("id" = AgentId, Path, description = "Agent id"), ListVersionsQuery),
    responses((status = 200, description = "`{versions, total}`"), (status = 400, description = "Bad limit/skip"), (status = 404, description = "Agent not found"),
              (status = 403, description = "workflow_graph agent without conversational-agents access")))]
async fn list_versions(OrgPath(s, t, id): OrgPath<AgentId>, ApiQuery(q): ApiQuery<ListVersionsQuery>) -> Reply {
    let page = history_page(q.limit, q.skip)?;
    let now = s.store.clock().now();
    Ok(ok(s.store.read_agent(&t, &id, |r| render::version_list(r, page, q.is_pinned, now))?))
}

/// Query of the version diff (L-C1: `versionA`/`versionB`, aliases
/// `baseId`/`compareId`).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct DiffQuery {
    /// First (old) version or draft id.
    version_a: Option<String>,
    /// Second (new) version or draft id.
    version_b: Option<String>,
    /// Alias of `versionA`.
    base_id: Option<String>,
    /// Alias of `versionB`.
    compare_id: Option<String>,
}

impl DiffQuery {
    /// The two ids: `<name>: Required`, or `<name>: Invalid ObjectId
    /// (expected 24 hex characters)`.
    fn ids(self) -> Result<(String, String), DomainError> {
        let required =
            |name: &str, v: Option<String>| v.ok_or_else(|| DomainError::invalid(format!("{name}: Required")));
        let a = required("versionA", self.version_a.or(self.base_id))?;
        let b = required("versionB", self.version_b.or(self.compare_id))?;
        for (name, v) in [("versionA", &a), ("versionB", &b)] {
            if !crate::domain::ids::is_object_id(v) {
                return Err(DomainError::invalid(format!("{name}: Invalid ObjectId (expected 24 hex characters)")));
            }
        }
        Ok((a, b))
    }
}

/// A version's config, or a draft's latest.
fn config_by_id(r: &AgentRecord, id: &str) -> Option<config::Config> {
    r.version(id).map(|v| v.config.clone()).or_else(|| r.draft(id).map(|d| d.config.clone()))
}

/// Diff two versions (R062): `{unchangedSections, diffs: [{section,
/// changes: [{path, oldValue, newValue}]}]}`, plus the draft diff's
/// `sections` and `hasChanges` (LIVE V4: both shapes in one answer).
/// Values equal to their defaults make no entry (LIVE C1). Each id is
/// looked up as a published version first, then as a draft's latest
/// revision.
#[utoipa::path(get, path = "/agent/{id}/versions/diff", tag = "Agent Versioning - Versions",
    params(("id" = AgentId, Path, description = "Agent id"), DiffQuery),
    responses((status = 200, description = "AgentVersionDiff"), (status = 400, description = "Missing or malformed ids"), (status = 404, description = "Not found"),
              (status = 403, description = "workflow_graph agent without conversational-agents access")))]
async fn diff_versions(OrgPath(s, t, id): OrgPath<AgentId>, ApiQuery(q): ApiQuery<DiffQuery>) -> Reply {
    let (a, b) = q.ids()?;
    let out = s.store.read_agent(&t, &id, |r| {
        let (a, b) = (config_by_id(r, &a)?, config_by_id(r, &b)?);
        Some(config_diff::v1_diff(&a, &b))
    })?;
    Ok(ok(out.ok_or_else(version_not_found)?))
}

/// One version with its config keyed by section (R060).
#[utoipa::path(get, path = "/agent/{id}/versions/{versionId}", tag = "Agent Versioning - Versions",
    params(("id" = AgentId, Path, description = "Agent id"), ("versionId" = VersionId, Path, description = "Version id")),
    responses((status = 200, description = "`{version, resolvedConfig}`"), (status = 400, description = "Malformed id"), (status = 404, description = "Not found"),
              (status = 403, description = "workflow_graph agent without conversational-agents access")))]
async fn get_version(OrgPath(s, t, (id, vid)): OrgPath<(AgentId, VersionId)>) -> Reply {
    let now = s.store.clock().now();
    let out = s.store.read_agent(&t, &id, |r| {
        r.version(&vid)
            .map(|v| json!({"version": render::version(r, v, now), "resolvedConfig": config::by_section(&v.config)}))
    })?;
    Ok(ok(out.ok_or_else(version_not_found)?))
}

/// Update a version's `label` (≤200), `description` (≤2000) or `isPinned`
/// (R061). At least one is required. Config never changes.
#[utoipa::path(patch, path = "/agent/{id}/versions/{versionId}", tag = "Agent Versioning - Versions",
    params(("id" = AgentId, Path, description = "Agent id"), ("versionId" = VersionId, Path, description = "Version id")),
    request_body = UpdateVersionRequest,
    responses((status = 200, description = "AgentVersion"), (status = 400, description = "Nothing to update / too long"), (status = 404, description = "Not found"),
              (status = 403, description = "workflow_graph agent without conversational-agents access")))]
async fn update_version(
    OrgPath(s, t, (id, vid)): OrgPath<(AgentId, VersionId)>,
    ApiJson(body): ApiJson<UpdateVersionRequest>,
) -> Reply {
    let cmd = Command::UpdateVersionMeta {
        version_id: vid.to_string(),
        label: body.label,
        description: body.description,
        is_pinned: body.is_pinned,
    };
    Ok(ok(execute_rendering(&s, &t, &id, &cmd, &vid)?))
}

/// Activate a version (R057, R058): it becomes the agent's
/// `activeVersionId`. Idempotent for the active version. Inside the
/// security-check window: 409 `Cannot activate version: security check
/// pending…` (status inferred, R057). Activating an older version is a
/// rollback.
#[utoipa::path(patch, path = "/agent/{id}/versions/{versionId}/activate", tag = "Agent Versioning - Versions",
    params(("id" = AgentId, Path, description = "Agent id"), ("versionId" = VersionId, Path, description = "Version id")),
    responses((status = 200, description = "AgentVersion with `isActive: true`"), (status = 404, description = "Not found"),
              (status = 409, description = "Security check pending"), (status = 403, description = "workflow_graph agent without conversational-agents access")))]
async fn activate_version(OrgPath(s, t, (id, vid)): OrgPath<(AgentId, VersionId)>) -> Reply {
    let cmd = Command::Activate { version_id: vid.to_string() };
    Ok(ok(execute_rendering(&s, &t, &id, &cmd, &vid)?))
}

/// Start a test call with a version's config (R064): `{conversationId,
/// callId}` plus `token`, `roomName`, `host` for webcall and chat.
#[utoipa::path(post, path = "/agent/{id}/versions/{versionId}/test-call", tag = "Agent Versioning - Versions",
    params(("id" = AgentId, Path, description = "Agent id"), ("versionId" = VersionId, Path, description = "Version id")),
    request_body = TestCallRequest,
    responses((status = 200, description = "TestCallResult"), (status = 400, description = "Bad mode / toPhone"), (status = 404, description = "Not found"),
              (status = 403, description = "workflow_graph agent without conversational-agents access")))]
async fn version_test_call(
    OrgPath(s, t, (id, vid)): OrgPath<(AgentId, VersionId)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TestCallRequest>,
) -> Reply {
    s.store.read_agent(&t, &id, |r| r.version(&vid).map(|_| ()))?.ok_or_else(version_not_found)?;
    let pin = Pin::Version(vid.into_string());
    Ok(ok(start_test_call(&s, &t, &headers, &body, &id, pin, TestCallKind::Version)?))
}
