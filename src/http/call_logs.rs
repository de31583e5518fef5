//! Call logs: `GET /conversation/{id}` and friends (BEHAVIOR R111–R117).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ApiResult};
use super::extract::Org;
use super::render;
use crate::calls::render as call_render;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_conversation))
}

/// One call log by `callId` (R115): transcript, variables, events,
/// latency statistics (ms), duration (s), cost, version and analytics,
/// all from the scenario that ran. Unknown or foreign: 404.
#[utoipa::path(get, path = "/conversation/{id}", tag = "Logs", params(("id" = String, Path, description = "callId")),
    responses((status = 200, description = "Call detail"), (status = 404, description = "No conversation found")))]
async fn get_conversation(State(s): State<AppState>, Org(t): Org, Path(id): Path<String>) -> ApiResult<Response> {
    let (call, hub) = s.calls.get(&t, &id).ok_or_else(|| ApiError::NotFound("No conversation found".into()))?;
    let agent = s.store.read_agent(&t, &call.agent_id, |r| render::agent(r, None)).unwrap_or(Value::Null);
    let events: Vec<Value> = hub.events().iter().map(|e| e.value.clone()).collect();
    Ok(render::ok(call_render::detail(&call, agent, &events, &s.calls.public_url())))
}
