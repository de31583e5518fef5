//! `GET /concurrency` and `PUT /concurrency/reservations` (spec tag
//! Concurrency; the Concurrency guide, CONC): the organization's limit and
//! per-agent reservations per channel. Both answer in the `success`
//! envelope (`{"success": true, "data": …}`, as the spec documents them;
//! one more of R008's exceptions). The rules live in
//! `crate::domain::concurrency`; the call engine applies them to every
//! call (`crate::calls`).

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

use super::error::{ApiError, Reply};
use super::extract::{ApiJson, Org, OrgState};
use super::json::parsed_body;
use crate::domain::concurrency::{self, ReservationUpdate};
use crate::state::AppState;
use crate::store::Tenant;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![get_concurrency, update_reservations]
}

/// `{"success": true, "data": data}`.
fn success(data: impl Serialize) -> Response {
    Json(json!({"success": true, "data": data})).into_response()
}

/// The organization's limit and reservations: `{success: true, data:
/// {orgLimit, totalReserved, unreservedPool, agents: [{agentId, agentName,
/// avatarUrl, webcall, outbound, inbound, chat}]}}`. `orgLimit` is the
/// plan's concurrent calls; `unreservedPool` is `orgLimit −
/// totalReserved`, at least 0; `agents` lists every agent with a
/// reservation, by id.
#[utoipa::path(get, path = "/concurrency", tag = "Concurrency",
    responses((status = 200, description = "`{success, data: {orgLimit, totalReserved, unreservedPool, agents}}`"),
              (status = 401, description = "Unauthorized")))]
async fn get_concurrency(OrgState(s, t): OrgState) -> Response {
    success(s.calls.concurrency(&t))
}

/// The caller's organization, for a key with the admin role or above;
/// rejects a member with 403 `Admin role required` before the body is read
/// (the role check comes first, as on the platform).
struct Admin(Arc<Tenant>);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Org(t) = Org::from_request_parts(parts, state).await?;
        concurrency::authorize(t.access().role)?;
        Ok(Self(t))
    }
}

/// One reservation of `PUT /concurrency/reservations` (documentation of
/// the body; `concurrency::parse_update` checks it).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct ReservationItem {
    /// The agent (24 hex).
    agent_id: String,
    /// Reserved webcall slots.
    #[schema(minimum = 0)]
    webcall: u32,
    /// Reserved outbound call slots.
    #[schema(minimum = 0)]
    outbound: u32,
    /// Reserved inbound call slots.
    #[schema(minimum = 0)]
    inbound: u32,
    /// Reserved chat slots.
    #[schema(minimum = 0)]
    chat: u32,
}

/// The documented shape of `PUT /concurrency/reservations`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
struct ReservationsBody {
    /// 1 to 1000 reservations, applied in order.
    #[schema(inline, min_items = 1, max_items = 1000)]
    reservations: Vec<ReservationItem>,
}

parsed_body!(
    /// `PUT /concurrency/reservations`: `{reservations: [{agentId, webcall,
    /// outbound, inbound, chat}]}`, every field required, counts integers
    /// ≥ 0 (`concurrency::parse_update`'s messages).
    UpdateReservationsRequest(Vec<ReservationUpdate>),
    |body| concurrency::parse_update(&serde_json::Value::Object(body.clone())),
    ReservationsBody::schema()
);

/// Replace the reservations of one or more agents (admin role): each item
/// replaces that agent's four numbers, a later item for the same agent
/// wins, all zeros removes the agent. `{success: true, data: {updated}}`
/// (`updated` = items). Waiting calls the new reservations let start
/// start at once; live calls are never stopped. Errors (nothing changes):
/// 403 `Admin role required` for a member key; 400 with the field's
/// message (`reservations.0.chat: Required`, `Invalid agent id`, …), 400
/// `Agent not found`, 400 `Total reserved concurrency (T) exceeds the
/// organization's concurrency limit (L)`.
#[utoipa::path(put, path = "/concurrency/reservations", tag = "Concurrency",
    request_body = UpdateReservationsRequest,
    responses((status = 200, description = "`{success, data: {updated}}`"),
              (status = 400, description = "Invalid body, unknown agent or over the limit"),
              (status = 403, description = "Admin role required")))]
async fn update_reservations(
    State(s): State<AppState>,
    Admin(t): Admin,
    ApiJson(body): ApiJson<UpdateReservationsRequest>,
) -> Reply {
    let updated = s.calls.set_reservations(&t, &body.0)?;
    Ok(success(json!({"updated": updated})))
}
