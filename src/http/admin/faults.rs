//! Fault injection under `/_admin/faults` (a mock extension; no platform
//! auth): add, list and remove rules. Applying them is the `faults` layer.

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::domain::DomainError;
use crate::faults::{render, FaultRequest, FaultSpec};
use crate::http::error::{ApiError, Reply};
use crate::http::extract::ApiJson;
use crate::http::json::RequestBody;
use crate::state::AppState;

impl RequestBody for FaultRequest {}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(add_fault, list_faults, clear_faults), delete_fault]
}

/// Add a rule after the existing ones: `{method?, pathPattern, apiKey?,
/// status?, body?, headers?, delayMs?, times?, probability?, retryAfter?}`.
/// `pathPattern` is relative to `/atoms/v1`: exact, `*` for one segment,
/// a final `**` for any rest. Without `body` the answer is the platform's
/// envelope for `status` (429: `Retry-After` plus `code` and `retry_after`,
/// `retryAfter` seconds, default 60). Without `status` the rule only
/// delays. `delayMs` runs on the mock's clock (a virtual clock holds the
/// request until advanced). `times`: the next N matches only.
/// `probability` (0–1) rolls a `--seed`ed RNG. 201 `{id}`; 400 naming the
/// bad field. At most 1000 rules: past it the oldest expired one makes
/// room, else 400 `Too many fault rules: …`.
#[utoipa::path(post, path = "/_admin/faults", tag = "Control API", request_body = FaultRequest,
    responses((status = 201, description = "`{id}`"), (status = 400, description = "Invalid rule")))]
async fn add_fault(State(s): State<AppState>, ApiJson(req): ApiJson<FaultRequest>) -> Reply {
    let spec = FaultSpec::parse(&req).map_err(ApiError::BadRequest)?;
    let id = s.faults.add(spec).map_err(|m| ApiError::BadRequest(m.into()))?;
    Ok((StatusCode::CREATED, Json(json!({"id": &*id}))).into_response())
}

/// Every rule in checking order: `{"faults": [{id, method, pathPattern,
/// apiKey, status, body, headers, delayMs, times, probability, remaining,
/// hits}]}`; `remaining` is `null` for unlimited rules and 0 once expired.
#[utoipa::path(get, path = "/_admin/faults", tag = "Control API",
    responses((status = 200, description = "`{faults}`")))]
async fn list_faults(State(s): State<AppState>) -> Response {
    let list: Vec<Value> = s.faults.list().iter().map(render).collect();
    Json(json!({"faults": list})).into_response()
}

/// Remove every rule. `{"cleared": true}`.
#[utoipa::path(delete, path = "/_admin/faults", tag = "Control API",
    responses((status = 200, description = "`{cleared}`")))]
async fn clear_faults(State(s): State<AppState>) -> Response {
    s.faults.clear(None);
    Json(json!({"cleared": true})).into_response()
}

/// Remove one rule. `{"deleted": "<id>"}`; 404 `Fault rule not found`.
#[utoipa::path(delete, path = "/_admin/faults/{faultId}", tag = "Control API",
    params(("faultId" = String, Path, description = "Rule id (`flt_<n>`)")),
    responses((status = 200, description = "`{deleted}`"), (status = 404, description = "Fault rule not found")))]
async fn delete_fault(State(s): State<AppState>, Path(id): Path<String>) -> Reply {
    if !s.faults.remove(&id) {
        return Err(ApiError::Rule(DomainError::NotFound("Fault rule not found".into())));
    }
    Ok(Json(json!({"deleted": id})).into_response())
}
