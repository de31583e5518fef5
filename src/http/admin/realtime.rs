//! Control API for the realtime WebSocket (a mock extension, no platform
//! auth): the draining switch (503 at the upgrade, R196), the
//! per-organization concurrent-session limit (default 100; beyond it the
//! upgrade gets 429) and the setup delay before `session.created`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{opt_bool, opt_str, ApiJson, ApiQuery};
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_realtime, update_realtime))
}

/// Query of `GET /_admin/realtime`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct RealtimeQuery {
    /// Report this key's organization instead of the defaults and totals.
    api_key: Option<String>,
}

fn settings(s: &AppState, api_key: Option<&str>) -> Value {
    let rt = &s.realtime;
    json!({
        "draining": rt.draining(),
        "sessionLimit": rt.limit(api_key),
        "openSessions": rt.open_sessions(api_key),
        "setupMs": rt.setup_ms(),
    })
}

/// Realtime settings: `{draining, sessionLimit, openSessions, setupMs}`.
/// With `?apiKey=`, the limit and open sessions of that key's
/// organization; without, the default limit and all open sessions.
#[utoipa::path(get, path = "/_admin/realtime", tag = "Control API", params(RealtimeQuery),
    responses((status = 200, description = "`{draining, sessionLimit, openSessions, setupMs}`")))]
async fn get_realtime(State(s): State<AppState>, ApiQuery(q): ApiQuery<RealtimeQuery>) -> Response {
    Json(settings(&s, q.api_key.as_deref())).into_response()
}

fn non_negative(body: &Map<String, Value>, key: &str) -> ApiResult<Option<u64>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| ApiError::BadRequest(format!("{key}: must be an integer ≥ 0"))),
    }
}

/// Change realtime settings. Body: `{draining?: bool, sessionLimit?:
/// integer ≥ 0, setupMs?: integer ≥ 0, apiKey?: string}`. `sessionLimit`
/// applies to `apiKey`'s organization, or is the default for every
/// organization without its own. Open sessions are never closed by a
/// change. Returns the settings as `GET` does; 400 for a wrong type.
#[utoipa::path(patch, path = "/_admin/realtime", tag = "Control API",
    request_body(content = Value, description = "`{draining?, sessionLimit?, setupMs?, apiKey?}`"),
    responses((status = 200, description = "`{draining, sessionLimit, openSessions, setupMs}`"),
              (status = 400, description = "Bad value")))]
async fn update_realtime(State(s): State<AppState>, ApiJson(body): ApiJson<Map<String, Value>>) -> ApiResult<Response> {
    let api_key = opt_str(&body, "apiKey")?;
    let draining = opt_bool(&body, "draining")?;
    let limit = non_negative(&body, "sessionLimit")?;
    let setup = non_negative(&body, "setupMs")?;
    if let Some(d) = draining {
        s.realtime.set_draining(d);
    }
    if let Some(l) = limit {
        s.realtime.set_limit(api_key.as_deref(), usize::try_from(l).unwrap_or(usize::MAX));
    }
    if let Some(ms) = setup {
        s.realtime.set_setup_ms(i64::try_from(ms).unwrap_or(i64::MAX));
    }
    Ok(Json(settings(&s, api_key.as_deref())).into_response())
}
