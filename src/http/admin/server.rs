//! The mock's control API under `/_admin` (a mock extension; no platform
//! auth): reset, the clock and an organization's access (R022).

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::{AdminOrg, OrgKeyQuery};
use crate::domain::agent::OrgAccess;
use crate::domain::role::Role;
use crate::domain::time::iso_seconds;
use crate::domain::DomainError;
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::json::RequestBody;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![reset, get_clock, advance_clock, (get_access, set_access)]
}

/// Query of `POST /_admin/reset`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct ResetQuery {
    /// Reset only this key's organization.
    api_key: Option<String>,
}

/// Forget all state (or one key's with `?apiKey=`) and re-create the
/// fixture agents. A full reset also restores the fixtures' scenario
/// assignments and the realtime switches, clears the request journal and
/// the webhook delivery log, and removes every fault rule (re-seeding
/// their RNG); a per-key reset drops only that key's journal
/// entries and the rules scoped to that key. The clock is not moved.
/// The freed memory goes back to the operating system before the answer
/// ([`crate::memory::release`]). Returns `{"reset": "all" | key}`.
#[utoipa::path(post, path = "/_admin/reset", tag = "Control API", params(ResetQuery),
    responses((status = 200, description = "`{reset}`")))]
async fn reset(State(s): State<AppState>, ApiQuery(q): ApiQuery<ResetQuery>) -> Response {
    s.reset(q.api_key.as_deref());
    crate::memory::release().await;
    Json(json!({"reset": q.api_key.as_deref().unwrap_or("all")})).into_response()
}

fn clock_json(s: &AppState) -> Value {
    let clock = s.store.clock();
    json!({"mode": clock.mode().as_str(), "now": iso_seconds(clock.now()), "nowMs": clock.now()})
}

/// The clock: `{"mode": "real" | "virtual", "now": "<ISO-8601 UTC>",
/// "nowMs": <epoch ms>}`.
#[utoipa::path(get, path = "/_admin/clock", tag = "Control API",
    responses((status = 200, description = "`{mode, now, nowMs}`")))]
async fn get_clock(State(s): State<AppState>) -> Response {
    Json(clock_json(&s)).into_response()
}

/// `POST /_admin/clock/advance`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct AdvanceClockRequest {
    /// Seconds to move forward, 0 to 1e9 (fractions allowed, rounded to ms).
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    seconds: f64,
}

impl RequestBody for AdvanceClockRequest {
    fn validate(&self) -> Result<(), DomainError> {
        if (0.0..=1e9).contains(&self.seconds) {
            Ok(())
        } else {
            Err(DomainError::invalid("seconds: must be between 0 and 1e9"))
        }
    }
}

/// Advance a virtual clock by `{"seconds": <number ≥ 0>}`; everything due
/// fires in order. On a real clock: 409. Returns the new clock.
#[utoipa::path(post, path = "/_admin/clock/advance", tag = "Control API", request_body = AdvanceClockRequest,
    responses((status = 200, description = "`{mode, now, nowMs}`"), (status = 400, description = "Bad seconds"),
              (status = 409, description = "Real clock")))]
async fn advance_clock(State(s): State<AppState>, ApiJson(body): ApiJson<AdvanceClockRequest>) -> Reply {
    if s.store.clock().mode() == crate::clock::ClockMode::Real {
        return Err(ApiError::Rule(DomainError::Conflict(
            "The clock is real; start with --clock virtual to advance it".into(),
        )));
    }
    // Seconds to whole milliseconds; `validate` bounds the cast.
    s.store.clock().advance((body.seconds * 1000.0).round() as i64).await;
    Ok(Json(clock_json(&s)).into_response())
}

fn access_json(key: &str, a: OrgAccess) -> Value {
    json!({"apiKey": key, "gatedModels": a.gated_models, "conversationalAgents": a.conversational_agents,
           "role": a.role.as_str()})
}

/// What an organization may use (R022) and its key's role: `{apiKey,
/// gatedModels, conversationalAgents, role}`. By default `gatedModels` is
/// false (`gpt-5.2`, `electron-kogta`, `electron-kogta-v2` give 403),
/// `conversationalAgents` true (`workflow_graph` agents allowed) and
/// `role` `owner`. Missing `apiKey`: 400.
#[utoipa::path(get, path = "/_admin/access", tag = "Control API", params(OrgKeyQuery),
    responses((status = 200, description = "`{apiKey, gatedModels, conversationalAgents, role}`"), (status = 400, description = "apiKey missing")))]
async fn get_access(AdminOrg(_s, key, t): AdminOrg) -> Reply {
    Ok(Json(access_json(&key, t.access())).into_response())
}

/// `PUT /_admin/access`: the switches to change; omitted ones keep their
/// value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetAccessRequest {
    /// May use `gpt-5.2`, `electron-kogta` and `electron-kogta-v2`.
    gated_models: Option<bool>,
    /// May create or edit `workflow_graph` agents.
    conversational_agents: Option<bool>,
    /// The key's role: `owner` (may do everything), `admin` (may change
    /// concurrency reservations) or `member` (may not: 403 `Admin role
    /// required`).
    #[schema(value_type = Option<String>, example = "admin")]
    role: Option<Role>,
}

impl RequestBody for SetAccessRequest {}

/// Change what an organization may use and its key's role:
/// `{gatedModels?: bool, conversationalAgents?: bool, role?: "owner" |
/// "admin" | "member"}` (mock extension; the platform grants these per
/// plan and per user, and no endpoint reports a role). Applies to later
/// requests. Returns the new access; a non-boolean switch, an unknown role
/// (`role: Invalid enum value. …`) or missing `apiKey`: 400.
#[utoipa::path(put, path = "/_admin/access", tag = "Control API", params(OrgKeyQuery), request_body = SetAccessRequest,
    responses((status = 200, description = "`{apiKey, gatedModels, conversationalAgents, role}`"), (status = 400, description = "Bad body or apiKey missing")))]
async fn set_access(AdminOrg(_s, key, t): AdminOrg, ApiJson(body): ApiJson<SetAccessRequest>) -> Reply {
    let old = t.access();
    let access = OrgAccess {
        gated_models: body.gated_models.unwrap_or(old.gated_models),
        conversational_agents: body.conversational_agents.unwrap_or(old.conversational_agents),
        role: body.role.unwrap_or(old.role),
    };
    t.set_access(access);
    Ok(Json(access_json(&key, access)).into_response())
}
