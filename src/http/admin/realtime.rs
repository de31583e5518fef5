//! Control API for the realtime WebSocket (a mock extension, no platform
//! auth): the draining switch (503 at the upgrade, R196), the
//! per-organization concurrent-session limit (default 100; beyond it the
//! upgrade gets 429) and the setup delay before `session.created`.

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::json::{fields, RequestBody};
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(get_realtime, update_realtime)]
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

/// `PATCH /_admin/realtime`: the settings to change; omitted ones keep
/// their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateRealtimeRequest {
    /// Refuse new sessions with 503 (open ones keep running).
    draining: Option<bool>,
    /// Open sessions allowed per organization (`apiKey`'s, or the default).
    #[serde(default, deserialize_with = "fields::non_negative")]
    #[schema(value_type = Option<u64>)]
    session_limit: Option<u64>,
    /// Delay before `session.created`, ms.
    #[serde(default, deserialize_with = "fields::non_negative")]
    #[schema(value_type = Option<u64>)]
    setup_ms: Option<u64>,
    /// The organization `sessionLimit` applies to.
    api_key: Option<String>,
}

impl RequestBody for UpdateRealtimeRequest {}

/// Change realtime settings. Body: `{draining?: bool, sessionLimit?:
/// integer ≥ 0, setupMs?: integer ≥ 0, apiKey?: string}`. `sessionLimit`
/// applies to `apiKey`'s organization, or is the default for every
/// organization without its own. Open sessions are never closed by a
/// change. Returns the settings as `GET` does; 400 for a wrong type.
#[utoipa::path(patch, path = "/_admin/realtime", tag = "Control API", request_body = UpdateRealtimeRequest,
    responses((status = 200, description = "`{draining, sessionLimit, openSessions, setupMs}`"),
              (status = 400, description = "Bad value")))]
async fn update_realtime(State(s): State<AppState>, ApiJson(body): ApiJson<UpdateRealtimeRequest>) -> Response {
    let api_key = body.api_key.as_deref();
    if let Some(d) = body.draining {
        s.realtime.set_draining(d);
    }
    if let Some(l) = body.session_limit {
        s.realtime.set_limit(api_key, usize::try_from(l).unwrap_or(usize::MAX));
    }
    if let Some(ms) = body.setup_ms {
        s.realtime.set_setup_ms(i64::try_from(ms).unwrap_or(i64::MAX));
    }
    Json(settings(&s, api_key)).into_response()
}
