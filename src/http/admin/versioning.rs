//! Versioning mode per organization (BEHAVIOR §0 "Modes", LIVE V1): the
//! control route `GET|PUT /_admin/versioning?apiKey=K`. What each mode
//! does to the platform's routes is the agent area's gate
//! (`http::agents::gate`).

use crate::http::routes::{router, OpenApiRouter};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::{AdminOrg, OrgKeyQuery};
use crate::domain::versioning::VersioningMode;
use crate::http::error::Reply;
use crate::http::extract::ApiJson;
use crate::http::json::RequestBody;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(get_versioning, put_versioning)]
}

fn settings_json(s: &AppState, key: &str) -> Value {
    let t = s.store.tenant(key);
    let v = t.versioning();
    json!({
        "apiKey": key,
        "mode": v.mode.as_str(),
        "scan": if v.scan_fails { "fail" } else { "pass" },
        "configFreeze": v.config_freeze,
        "default": s.store.default_versioning().as_str(),
    })
}

/// An organization's versioning settings: `{apiKey, mode: "auto"|"v1"|"v2",
/// scan: "pass"|"fail", configFreeze, default}` (`default` is
/// `--versioning`).
#[utoipa::path(get, path = "/_admin/versioning", tag = "Control API", params(OrgKeyQuery),
    responses((status = 200, description = "`{apiKey, mode, scan, configFreeze, default}`"), (status = 400, description = "No apiKey")))]
async fn get_versioning(AdminOrg(s, key, _t): AdminOrg) -> Reply {
    Ok(Json(settings_json(&s, &key)).into_response())
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
    /// Start (`true`) or lift (`false`) a config freeze (R017).
    config_freeze: Option<bool>,
}

impl RequestBody for PutVersioningRequest {}

/// Switch one organization: body `{mode?: "auto"|"v1"|"v2", scan?:
/// "pass"|"fail", configFreeze?: bool}`. `scan: "fail"` makes every v2
/// security scan started afterwards fail (L-D4); publishes already
/// scanning keep their planned outcome. `configFreeze: true` starts the
/// platform's maintenance freeze (`AGENT_CONFIG_FROZEN`, R017) for the
/// organization: branch create, rename, archive, live, `PUT` draft,
/// publish and restore answer 423 `config_freeze_active` until `false`
/// lifts it; reads and test calls still work. Returns the settings as
/// `GET` does.
#[utoipa::path(put, path = "/_admin/versioning", tag = "Control API", params(OrgKeyQuery),
    request_body = PutVersioningRequest,
    responses((status = 200, description = "`{apiKey, mode, scan, configFreeze, default}`"), (status = 400, description = "No apiKey / bad value")))]
async fn put_versioning(AdminOrg(s, key, t): AdminOrg, ApiJson(body): ApiJson<PutVersioningRequest>) -> Reply {
    let scan_fails = body.scan.map(|x| matches!(x, ScanOutcome::Fail)).or(body.scan_fails);
    t.update_versioning(|v| {
        v.mode = body.mode.map_or(v.mode, VersioningMode::from);
        v.scan_fails = scan_fails.unwrap_or(v.scan_fails);
        v.config_freeze = body.config_freeze.unwrap_or(v.config_freeze);
    });
    Ok(Json(settings_json(&s, &key)).into_response())
}
