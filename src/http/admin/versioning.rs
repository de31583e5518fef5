//! Versioning mode per organization (BEHAVIOR §0 "Modes", LIVE V1): the
//! control route `GET|PUT /_admin/versioning?apiKey=K` and the [`gate`]
//! that makes each mode's endpoints answer as the platform does.
//!
//! - `auto` (the server default): one service serves v1 and v2 clients
//!   (LIVE V1). Every agent starts on drafts and versions; its first v2
//!   call (any branch route, or `GET /agent/{id}/diff` with a
//!   `<branchId>:draft` ref) moves that agent to the branch model, and from
//!   then on it answers as in v2 mode. Other agents are not affected.
//! - v2 mode (`ENABLE_BRANCH_MODEL` on): the v1 write and list endpoints
//!   answer R075's 409 with `Deprecation: true`; the kept v1 reads and test
//!   calls work and carry `Deprecation: true` too (R076, L-C4).
//! - v1 mode (the flag off): the branch routes and `GET /agent/{id}/diff`
//!   do not exist (Express's 404 page, like any unknown route, LIVE T2).

use axum::body::Body;
use std::collections::HashMap;

use axum::extract::{OriginalUri, Query, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::domain::error::Rejection;
use crate::domain::versioning::VersioningMode;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, Org};
use crate::http::json::RequestBody;
use crate::http::{transport, API_PREFIX};
use crate::state::AppState;

/// R075's exact message.
pub(crate) const MIGRATION_REQUIRED: &str = "This endpoint is deprecated under the branch model. Use the /agents/:id/branches APIs — publish, make-live and config edits now happen on branches. If you are calling this via the MCP server, update the MCP tool to its branch-model version as well.";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_versioning, put_versioning))
}

/// Query of `/_admin/versioning`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct VersioningQuery {
    /// The organization's API key (required).
    api_key: Option<String>,
}

fn settings_json(s: &AppState, key: &str) -> Value {
    let t = s.store.tenant(key);
    let v = t.versioning();
    json!({
        "apiKey": key,
        "mode": v.mode.as_str(),
        "scan": if v.scan_fails { "fail" } else { "pass" },
        "default": s.store.default_versioning().as_str(),
    })
}

fn key(q: VersioningQuery) -> ApiResult<String> {
    q.api_key.filter(|k| !k.is_empty()).ok_or_else(|| ApiError::BadRequest("apiKey: Required".into()))
}

/// An organization's versioning settings: `{apiKey, mode: "auto"|"v1"|"v2",
/// scan: "pass"|"fail", default}` (`default` is `--versioning`).
#[utoipa::path(get, path = "/_admin/versioning", tag = "Control API", params(VersioningQuery),
    responses((status = 200, description = "`{apiKey, mode, scan, default}`"), (status = 400, description = "No apiKey")))]
async fn get_versioning(State(s): State<AppState>, ApiQuery(q): ApiQuery<VersioningQuery>) -> ApiResult<Response> {
    let k = key(q)?;
    Ok(Json(settings_json(&s, &k)).into_response())
}

/// A versioning mode as the control API names it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ModeName {
    /// Per agent (LIVE V1).
    Auto,
    /// Drafts and versions only.
    V1,
    /// Branches and revisions only.
    V2,
}

impl From<ModeName> for VersioningMode {
    fn from(m: ModeName) -> Self {
        match m {
            ModeName::Auto => Self::Auto,
            ModeName::V1 => Self::V1,
            ModeName::V2 => Self::V2,
        }
    }
}

/// How v2 security scans end from now on.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ScanOutcome {
    /// Scans pass (the default).
    Pass,
    /// Scans fail (L-D4).
    Fail,
}

/// `PUT /_admin/versioning`: what to change; omitted fields keep their
/// value. `scanFails` is the older boolean spelling of `scan`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutVersioningRequest {
    /// The organization's mode.
    mode: Option<ModeName>,
    /// Whether later scans pass or fail.
    scan: Option<ScanOutcome>,
    /// `true` is `scan: "fail"`; ignored when `scan` is sent.
    scan_fails: Option<bool>,
}

impl RequestBody for PutVersioningRequest {}

/// Switch one organization: body `{mode?: "auto"|"v1"|"v2", scan?: "pass"|"fail"}`.
/// `scan: "fail"` makes every v2 security scan started afterwards fail
/// (L-D4); publishes already scanning keep their planned outcome. Returns
/// the settings as `GET` does.
#[utoipa::path(put, path = "/_admin/versioning", tag = "Control API", params(VersioningQuery),
    request_body = PutVersioningRequest,
    responses((status = 200, description = "`{apiKey, mode, scan, default}`"), (status = 400, description = "No apiKey / bad value")))]
async fn put_versioning(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<VersioningQuery>,
    ApiJson(body): ApiJson<PutVersioningRequest>,
) -> ApiResult<Response> {
    let k = key(q)?;
    let scan_fails = body.scan.map(|x| matches!(x, ScanOutcome::Fail)).or(body.scan_fails);
    s.store.tenant(&k).update_versioning(|v| {
        v.mode = body.mode.map_or(v.mode, VersioningMode::from);
        v.scan_fails = scan_fails.unwrap_or(v.scan_fails);
    });
    Ok(Json(settings_json(&s, &k)).into_response())
}

/// How a platform route relates to the versioning modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Not a versioning route, or one both modes serve alike.
    Any,
    /// v1 write or list endpoint: 409 on the branch model (R075).
    Deprecated,
    /// v1 by-id read or test call kept on the branch model (R076).
    Kept,
    /// Branch model only. `moves` says whether a call moves the agent to
    /// the branch model in `auto` mode: every branch route does, and
    /// `GET /agent/{id}/diff` when a ref names a branch draft (a diff of
    /// two revision ids reads v1 versions just as well).
    V2Only {
        /// Moves the agent (LIVE V1).
        moves: bool,
    },
}

fn classify(method: &Method, path: &str, uri: &axum::http::Uri) -> Kind {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let m = method.as_str();
    match (m, segs.as_slice()) {
        (_, ["agent", _, "branches", ..]) => Kind::V2Only { moves: true },
        ("GET", ["agent", _, "diff"]) => {
            let refs = Query::<HashMap<String, String>>::try_from_uri(uri).map(|Query(q)| q).unwrap_or_default();
            Kind::V2Only { moves: ["a", "b"].iter().any(|k| refs.get(*k).is_some_and(|r| r.ends_with(":draft"))) }
        }
        ("POST" | "GET", ["agent", _, "drafts"])
        | ("PATCH" | "DELETE", ["agent", _, "drafts", _])
        | ("PATCH", ["agent", _, "drafts", _, "config"])
        | ("POST", ["agent", _, "drafts", _, "publish"])
        | ("GET", ["agent", _, "versions"])
        | ("PATCH", ["agent", _, "versions", _] | ["agent", _, "versions", _, "activate"]) => Kind::Deprecated,
        (_, ["agent", _, "drafts" | "versions", ..]) => Kind::Kept,
        _ => Kind::Any,
    }
}

/// R075's 409 with `Deprecation: true`.
fn migration_required() -> Response {
    let r = Rejection {
        error_type: Some("versioning_v2_migration_required"),
        errors: vec![MIGRATION_REQUIRED.into()],
        data: None,
    };
    ApiError::Detailed(Box::new(r), true).into_response()
}

/// Answers each mode's endpoints (see the module doc). Runs after auth,
/// which puts the organization in place. In `auto` mode the agent in the
/// path decides: a v2 call moves it to the branch model first.
pub(crate) async fn gate(State(s): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let Some(Org(t)) = req.extensions().get::<Org>().cloned() else {
        return next.run(req).await;
    };
    let Some(path) = req.uri().path().strip_prefix(API_PREFIX) else {
        return next.run(req).await;
    };
    let kind = classify(req.method(), path, req.uri());
    let agent = path.trim_matches('/').split('/').nth(1).unwrap_or_default();
    let mode = t.versioning_mode();
    let on_branches = match (mode, kind) {
        (VersioningMode::V1, Kind::V2Only { .. }) => {
            let sent = req.extensions().get::<OriginalUri>().map_or(req.uri().path(), |o| o.0.path());
            return transport::not_found_page(req.method(), sent);
        }
        (VersioningMode::V1, _) | (_, Kind::Any) => false,
        (VersioningMode::Auto | VersioningMode::V2, Kind::V2Only { moves }) => {
            if moves {
                s.store.enter_branch_model(&t, agent);
            }
            true
        }
        (VersioningMode::V2, Kind::Deprecated | Kind::Kept) => true,
        (VersioningMode::Auto, Kind::Deprecated | Kind::Kept) => s.store.on_branch_model(&t, agent) == Some(true),
    };
    match kind {
        Kind::Deprecated if on_branches => migration_required(),
        Kind::Kept if on_branches => {
            let mut res = next.run(req).await;
            res.headers_mut().insert("deprecation", HeaderValue::from_static("true"));
            res
        }
        Kind::Any | Kind::Deprecated | Kind::Kept | Kind::V2Only { .. } => next.run(req).await,
    }
}
