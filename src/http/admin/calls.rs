//! Control API for calls (a mock extension under `/_admin`, no platform
//! auth): the scenario library and its assignments, per-organization
//! concurrency limits (R108), and placing a retry of a call (R121).
//!
//! Which scenario a call runs: the `x-atoms-mock-scenario` header, then
//! the assignment of its destination phone, then of its agent, then the
//! default (see `crate::scenarios`). Assignments changed here last until
//! `POST /_admin/reset`, which restores the fixtures' ones. An unknown
//! scenario name is 400 `Unknown scenario '<name>'` and changes nothing.

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

use super::{required_key, AdminOrg, OrgKeyQuery};
use crate::domain::ids::is_e164;
use crate::domain::DomainError;
use crate::http::error::{ApiError, ApiResult, Reply};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::json::RequestBody;
use crate::scenarios::{Assignments, Library};
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        list_scenarios,
        replace_assignments,
        set_default_scenario,
        (assign_agent_scenario, unassign_agent_scenario),
        (assign_phone_scenario, unassign_phone_scenario),
        (get_concurrency, set_concurrency),
        retry_call
    ]
}

fn unknown(name: &str) -> ApiError {
    ApiError::BadRequest(format!("Unknown scenario '{name}'"))
}

fn assignments_json(a: &Assignments) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

/// Applies `change` to the live assignments and answers with the result.
fn update(lib: &Library, change: impl FnOnce(&mut Assignments)) -> Reply {
    let a = lib.update(change).map_err(ApiError::BadRequest)?;
    Ok(Json(assignments_json(&a)).into_response())
}

/// `{scenario}`: the body of the routes that assign one scenario.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ScenarioRequest {
    /// A loaded scenario's name (`GET /_admin/scenarios`).
    scenario: String,
}

impl RequestBody for ScenarioRequest {}

/// `PUT /_admin/scenarios/assignments`: the `scenarios/assignments.json`
/// format. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AssignmentsRequest {
    /// The server default scenario.
    default: String,
    /// Agent id → scenario name.
    #[serde(default)]
    by_agent: BTreeMap<String, String>,
    /// E.164 destination number → scenario name.
    #[serde(default)]
    by_phone: BTreeMap<String, String>,
}

impl RequestBody for AssignmentsRequest {}

impl From<AssignmentsRequest> for Assignments {
    fn from(r: AssignmentsRequest) -> Self {
        Self { default: r.default, by_agent: r.by_agent, by_phone: r.by_phone }
    }
}

/// Every loaded scenario and the live assignments: `{scenarios: [{name,
/// description, outcome, disconnectReason, ringSeconds, turns}],
/// assignments: {default, byAgent, byPhone}}`. `outcome` is one of
/// `completed`, `no_answer`, `busy`, `failed`, `cancelled`;
/// `ringSeconds` is seconds; `turns` counts the script's steps.
#[utoipa::path(get, path = "/_admin/scenarios", tag = "Control API",
    responses((status = 200, description = "`{scenarios, assignments}`")))]
async fn list_scenarios(State(s): State<AppState>) -> Response {
    let lib = s.calls.library();
    let scenarios: Vec<Value> = lib
        .names()
        .iter()
        .filter_map(|n| lib.get(n))
        .map(|sc| {
            json!({
                "name": sc.name, "description": sc.description, "outcome": sc.outcome,
                "disconnectReason": sc.disconnect_reason, "ringSeconds": sc.ring_seconds, "turns": sc.turns.len(),
            })
        })
        .collect();
    Json(json!({"scenarios": scenarios, "assignments": assignments_json(&lib.assignments())})).into_response()
}

/// Replace every assignment at once with `{default, byAgent?, byPhone?}`
/// (the `scenarios/assignments.json` format). Returns the assignments.
/// An unknown scenario or field: 400, nothing changes.
#[utoipa::path(put, path = "/_admin/scenarios/assignments", tag = "Control API", request_body = AssignmentsRequest,
    responses((status = 200, description = "The assignments"), (status = 400, description = "Unknown scenario or field")))]
async fn replace_assignments(State(s): State<AppState>, ApiJson(body): ApiJson<AssignmentsRequest>) -> Reply {
    update(s.calls.library(), |live| *live = body.into())
}

/// Set the server default scenario: `{scenario}`. Returns the
/// assignments; an unknown name: 400.
#[utoipa::path(put, path = "/_admin/scenarios/default", tag = "Control API",
    request_body = ScenarioRequest,
    responses((status = 200, description = "The assignments"), (status = 400, description = "Unknown scenario")))]
async fn set_default_scenario(State(s): State<AppState>, ApiJson(body): ApiJson<ScenarioRequest>) -> Reply {
    update(s.calls.library(), |a| a.default = body.scenario)
}

/// Assign a scenario to every call of an agent: `{scenario}`. Returns the
/// assignments; an unknown name: 400.
#[utoipa::path(put, path = "/_admin/scenarios/agents/{agentId}", tag = "Control API",
    params(("agentId" = String, Path, description = "Agent id")),
    request_body = ScenarioRequest,
    responses((status = 200, description = "The assignments"), (status = 400, description = "Unknown scenario")))]
async fn assign_agent_scenario(
    State(s): State<AppState>,
    Path(agent_id): Path<String>,
    ApiJson(body): ApiJson<ScenarioRequest>,
) -> Reply {
    update(s.calls.library(), |a| {
        a.by_agent.insert(agent_id, body.scenario);
    })
}

/// Remove an agent's assignment (idempotent). Returns the assignments.
#[utoipa::path(delete, path = "/_admin/scenarios/agents/{agentId}", tag = "Control API",
    params(("agentId" = String, Path, description = "Agent id")),
    responses((status = 200, description = "The assignments")))]
async fn unassign_agent_scenario(State(s): State<AppState>, Path(agent_id): Path<String>) -> Reply {
    update(s.calls.library(), |a| {
        a.by_agent.remove(&agent_id);
    })
}

fn check_phone(phone: &str) -> ApiResult<()> {
    if is_e164(phone) {
        Ok(())
    } else {
        Err(ApiError::BadRequest("Invalid phone number".into()))
    }
}

/// Assign a scenario to every call to an E.164 number: `{scenario}`
/// (write the `+` as is or as `%2B`). Returns the assignments; an unknown
/// name or a malformed number: 400.
#[utoipa::path(put, path = "/_admin/scenarios/phones/{phone}", tag = "Control API",
    params(("phone" = String, Path, description = "E.164 destination number")),
    request_body = ScenarioRequest,
    responses((status = 200, description = "The assignments"), (status = 400, description = "Unknown scenario or bad number")))]
async fn assign_phone_scenario(
    State(s): State<AppState>,
    Path(phone): Path<String>,
    ApiJson(body): ApiJson<ScenarioRequest>,
) -> Reply {
    check_phone(&phone)?;
    update(s.calls.library(), |a| {
        a.by_phone.insert(phone, body.scenario);
    })
}

/// Remove a phone number's assignment (idempotent). Returns the
/// assignments; a malformed number: 400.
#[utoipa::path(delete, path = "/_admin/scenarios/phones/{phone}", tag = "Control API",
    params(("phone" = String, Path, description = "E.164 destination number")),
    responses((status = 200, description = "The assignments"), (status = 400, description = "Bad number")))]
async fn unassign_phone_scenario(State(s): State<AppState>, Path(phone): Path<String>) -> Reply {
    check_phone(&phone)?;
    update(s.calls.library(), |a| {
        a.by_phone.remove(&phone);
    })
}

/// Query of `POST /_admin/calls/{callId}/retry`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct RetryQuery {
    /// The organization's API key.
    api_key: Option<String>,
    /// Scenario for the retry (default: the parent's).
    scenario: Option<String>,
}

fn concurrency_json(s: &AppState, api_key: &str) -> Value {
    let t = s.store.tenant(api_key);
    let (running, queued) = t.calls().load();
    json!({"apiKey": api_key, "limit": s.calls.limit(t.calls()), "running": running, "queued": queued})
}

/// An organization's concurrency limit (R108): `{apiKey, limit, running,
/// queued}`. Without a setting the limit is `--concurrency-limit`
/// (default 10). Missing `apiKey`: 400.
#[utoipa::path(get, path = "/_admin/concurrency", tag = "Control API", params(OrgKeyQuery),
    responses((status = 200, description = "`{apiKey, limit, running, queued}`"), (status = 400, description = "apiKey missing")))]
async fn get_concurrency(AdminOrg(s, key, _t): AdminOrg) -> Reply {
    Ok(Json(concurrency_json(&s, &key)).into_response())
}

/// `PUT /_admin/concurrency`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct SetConcurrencyRequest {
    /// Calls that may run at once, 1 to 100000.
    #[schema(value_type = u32, minimum = 1, maximum = 100_000)]
    limit: Value,
}

impl SetConcurrencyRequest {
    /// The limit, once [`RequestBody::validate`] passed.
    fn limit(&self) -> usize {
        self.limit.as_u64().and_then(|l| usize::try_from(l).ok()).unwrap_or(1)
    }
}

impl RequestBody for SetConcurrencyRequest {
    fn validate(&self) -> Result<(), DomainError> {
        match self.limit.as_u64() {
            Some(1..=100_000) => Ok(()),
            _ => Err(DomainError::invalid("limit: Expected an integer between 1 and 100000")),
        }
    }
}

/// Set an organization's concurrency limit: `{limit}` (an integer ≥ 1).
/// Queued calls that now fit start at once, in order. The plan's
/// `concurrentCalls` (`GET /user/subscription`) follows: one number.
/// Returns `{apiKey, limit, running, queued}`; a bad limit or missing
/// `apiKey`: 400.
#[utoipa::path(put, path = "/_admin/concurrency", tag = "Control API", params(OrgKeyQuery), request_body = SetConcurrencyRequest,
    responses((status = 200, description = "`{apiKey, limit, running, queued}`"), (status = 400, description = "Bad limit or apiKey missing")))]
async fn set_concurrency(AdminOrg(s, key, t): AdminOrg, ApiJson(body): ApiJson<SetConcurrencyRequest>) -> Reply {
    t.account().set_concurrent_calls(body.limit());
    s.calls.set_limit(t.calls(), body.limit());
    Ok(Json(concurrency_json(&s, &key)).into_response())
}

/// Place a retry of an ended call (R121), as a campaign's retry policy
/// would: same agent, numbers, variables, config and test flag; the
/// parent's `retryCallId` then points at it and it runs `?scenario=` (or
/// the parent's scenario). Returns `{callId, retryOf,
/// retryAttemptNumber}`. Unknown call: 404; a call still running or
/// already retried, an unknown scenario, or missing `apiKey`: 400.
#[utoipa::path(post, path = "/_admin/calls/{callId}/retry", tag = "Control API",
    params(("callId" = String, Path, description = "The call to retry"), RetryQuery),
    responses((status = 200, description = "`{callId, retryOf, retryAttemptNumber}`"),
              (status = 400, description = "Not retryable"), (status = 404, description = "No conversation found")))]
async fn retry_call(State(s): State<AppState>, Path(parent): Path<String>, ApiQuery(q): ApiQuery<RetryQuery>) -> Reply {
    let t = s.store.tenant(required_key(q.api_key.as_deref())?);
    let scenario = q.scenario.as_deref().map(|n| s.calls.library().get(n).ok_or_else(|| unknown(n))).transpose()?;
    let call = s.calls.retry(&t, &parent, scenario)?;
    Ok(Json(json!({"callId": call.call_id, "retryOf": parent, "retryAttemptNumber": call.retry_attempt_number}))
        .into_response())
}
