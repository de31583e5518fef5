//! v1 versions: `/agent/{id}/versions…` (BEHAVIOR R057–R064). Unknown or
//! foreign agents give 404 `Agent not found`, unknown versions 404
//! `Version not found`, malformed version ids 400.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::agent::check_agent_id;
use super::drafts::EDITOR_NAME;
use crate::domain::ids::is_object_id;
use crate::domain::versioning::{AgentRecord, Command};
use crate::domain::{config, config_diff};
use crate::http::calls::conversations::Pin;
use crate::http::calls::test_calls::{start_test_call, TestCallKind};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, Org};
use crate::http::render;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_versions))
        .routes(routes!(diff_versions))
        .routes(routes!(get_version, update_version))
        .routes(routes!(activate_version))
        .routes(routes!(version_test_call))
}

fn check_version_id(v: &str) -> ApiResult<()> {
    if is_object_id(v) {
        Ok(())
    } else {
        Err(ApiError::BadRequest("Invalid version id".into()))
    }
}

fn version_not_found() -> ApiError {
    ApiError::NotFound("Version not found".into())
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
    params(("id" = String, Path, description = "Agent id"), ListVersionsQuery),
    responses((status = 200, description = "`{versions, total}`"), (status = 400, description = "Bad limit/skip"), (status = 404, description = "Agent not found")))]
async fn list_versions(
    State(s): State<AppState>,
    Org(t): Org,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListVersionsQuery>,
) -> ApiResult<Response> {
    check_agent_id(&id)?;
    let limit = q.limit.unwrap_or(20);
    let skip = q.skip.unwrap_or(0);
    if !(1..=100).contains(&limit) || skip < 0 {
        return Err(ApiError::BadRequest("limit must be between 1 and 100 and skip must be at least 0".into()));
    }
    let now = s.store.clock().now();
    let out = s.store.read_agent(&t, &id, |r| {
        let list: Vec<Value> = r
            .versions
            .iter()
            .rev()
            .filter(|v| v.is_committed())
            .filter(|v| q.is_pinned.is_none_or(|p| v.is_pinned == p))
            .skip(usize::try_from(skip).unwrap_or(0))
            .take(usize::try_from(limit).unwrap_or(20))
            .map(|v| {
                let mut x = render::version(r, v, now);
                x["publishedByName"] = json!(EDITOR_NAME);
                x["activatedByName"] = if v.activated_by.is_some() { json!(EDITOR_NAME) } else { Value::Null };
                x
            })
            .collect();
        json!({"versions": list, "total": r.versions.iter().filter(|v| v.is_committed()).count()})
    })?;
    Ok(render::ok(out))
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
    params(("id" = String, Path, description = "Agent id"), DiffQuery),
    responses((status = 200, description = "AgentVersionDiff"), (status = 400, description = "Missing or malformed ids"), (status = 404, description = "Not found")))]
async fn diff_versions(
    State(s): State<AppState>,
    Org(t): Org,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Response> {
    check_agent_id(&id)?;
    let a = q.version_a.or(q.base_id).ok_or_else(|| ApiError::BadRequest("versionA: Required".into()))?;
    let b = q.version_b.or(q.compare_id).ok_or_else(|| ApiError::BadRequest("versionB: Required".into()))?;
    for (name, v) in [("versionA", &a), ("versionB", &b)] {
        if !is_object_id(v) {
            return Err(ApiError::BadRequest(format!("{name}: Invalid ObjectId (expected 24 hex characters)")));
        }
    }
    let out = s.store.read_agent(&t, &id, |r| {
        let (ca, cb) = (config_by_id(r, &a), config_by_id(r, &b));
        Some(config_diff::v1_diff(ca.as_deref()?, cb.as_deref()?))
    })?;
    Ok(render::ok(out.ok_or_else(version_not_found)?))
}

/// One version with its config keyed by section (R060).
#[utoipa::path(get, path = "/agent/{id}/versions/{versionId}", tag = "Agent Versioning - Versions",
    params(("id" = String, Path, description = "Agent id"), ("versionId" = String, Path, description = "Version id")),
    responses((status = 200, description = "`{version, resolvedConfig}`"), (status = 400, description = "Malformed id"), (status = 404, description = "Not found")))]
async fn get_version(
    State(s): State<AppState>,
    Org(t): Org,
    Path((id, vid)): Path<(String, String)>,
) -> ApiResult<Response> {
    check_agent_id(&id)?;
    check_version_id(&vid)?;
    let now = s.store.clock().now();
    let out = s.store.read_agent(&t, &id, |r| {
        r.version(&vid)
            .map(|v| json!({"version": render::version(r, v, now), "resolvedConfig": config::by_section(&v.config)}))
    })?;
    Ok(render::ok(out.ok_or_else(version_not_found)?))
}

fn nullable_str(body: &Map<String, Value>, key: &str) -> ApiResult<Option<Option<String>>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(x)) => Ok(Some(Some(x.clone()))),
        Some(_) => Err(ApiError::BadRequest(format!("{key}: Expected string or null"))),
    }
}

/// Update a version's `label` (≤200), `description` (≤2000) or `isPinned`
/// (R061). At least one is required. Config never changes.
#[utoipa::path(patch, path = "/agent/{id}/versions/{versionId}", tag = "Agent Versioning - Versions",
    params(("id" = String, Path, description = "Agent id"), ("versionId" = String, Path, description = "Version id")),
    request_body(content = Value, description = "UpdateVersionMetaRequest"),
    responses((status = 200, description = "AgentVersion"), (status = 400, description = "Nothing to update / too long"), (status = 404, description = "Not found")))]
async fn update_version(
    State(s): State<AppState>,
    Org(t): Org,
    Path((id, vid)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    check_agent_id(&id)?;
    check_version_id(&vid)?;
    let is_pinned = crate::http::extract::opt_bool(&body, "isPinned")?;
    let cmd = Command::UpdateVersionMeta {
        version_id: vid.clone(),
        label: nullable_str(&body, "label")?,
        description: nullable_str(&body, "description")?,
        is_pinned,
    };
    let now = s.store.clock().now();
    let out = s.store.execute(&t, &id, &cmd, |r| r.version(&vid).map(|v| render::version(r, v, now)))?;
    Ok(render::ok(out.unwrap_or(Value::Null)))
}

/// Activate a version (R057, R058): it becomes the agent's
/// `activeVersionId`. Idempotent for the active version. Inside the
/// security-check window: 409 `Cannot activate version: security check
/// pending…` (status inferred, R057). Activating an older version is a
/// rollback.
#[utoipa::path(patch, path = "/agent/{id}/versions/{versionId}/activate", tag = "Agent Versioning - Versions",
    params(("id" = String, Path, description = "Agent id"), ("versionId" = String, Path, description = "Version id")),
    responses((status = 200, description = "AgentVersion with `isActive: true`"), (status = 404, description = "Not found"),
              (status = 409, description = "Security check pending")))]
async fn activate_version(
    State(s): State<AppState>,
    Org(t): Org,
    Path((id, vid)): Path<(String, String)>,
) -> ApiResult<Response> {
    check_agent_id(&id)?;
    check_version_id(&vid)?;
    let cmd = Command::Activate { version_id: vid.clone() };
    let now = s.store.clock().now();
    let out = s.store.execute(&t, &id, &cmd, |r| r.version(&vid).map(|v| render::version(r, v, now)))?;
    Ok(render::ok(out.unwrap_or(Value::Null)))
}

/// Start a test call with a version's config (R064): `{conversationId,
/// callId}` plus `token`, `roomName`, `host` for webcall and chat.
#[utoipa::path(post, path = "/agent/{id}/versions/{versionId}/test-call", tag = "Agent Versioning - Versions",
    params(("id" = String, Path, description = "Agent id"), ("versionId" = String, Path, description = "Version id")),
    request_body(content = Value, description = "TestCallRequest"),
    responses((status = 200, description = "TestCallResult"), (status = 400, description = "Bad mode / toPhone"), (status = 404, description = "Not found")))]
async fn version_test_call(
    State(s): State<AppState>,
    Org(t): Org,
    headers: HeaderMap,
    Path((id, vid)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    check_agent_id(&id)?;
    check_version_id(&vid)?;
    s.store.read_agent(&t, &id, |r| r.version(&vid).map(|_| ()))?.ok_or_else(version_not_found)?;
    let call = start_test_call(&s, &t, &headers, &body, &id, Pin::Version(vid), TestCallKind::Version)?;
    Ok(render::ok(call))
}
