//! Export and import of one organization (a mock extension):
//! `GET|PUT /_admin/state?apiKey=K`. The document is `crate::persist`'s
//! [`OrgDocument`](crate::persist::OrgDocument), the same snapshot the
//! state file holds per organization.

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::{DefaultBodyLimit, State};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::OrgKeyQuery;
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::json::RequestBody;
use crate::state::AppState;

/// The export and import routes; an import body may hold `state_import`
/// bytes (`--state-import-bytes`, see `extract::body_limit`).
pub(crate) fn router(state_import: usize) -> OpenApiRouter<AppState> {
    router![(export_state, import_state)].layer(DefaultBodyLimit::max(state_import))
}

/// An exported organization, `{"format": "atoms-mock-organization",
/// "version": 1, "organization": {...}}`, read as JSON and checked by
/// `persist::import`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub(crate) struct OrgDocumentBody(Value);

impl RequestBody for OrgDocumentBody {}

/// One organization's whole state: `{format: "atoms-mock-organization",
/// version: 1, organization: {orgId, userId, settings, agents, calls,
/// campaigns, webhooks}}`. Calls not yet ended appear as the state file
/// records them: `failed` with `system_error` (R110). Missing `apiKey`: 400.
#[utoipa::path(get, path = "/_admin/state", tag = "Control API", params(OrgKeyQuery),
    responses((status = 200, description = "The organization document"), (status = 400, description = "No apiKey")))]
async fn export_state(State(s): State<AppState>, ApiQuery(q): ApiQuery<OrgKeyQuery>) -> Reply {
    let k = q.key()?;
    Ok(Json(crate::persist::export(&s, k)).into_response())
}

/// Replace one organization's state with an exported document (from this
/// or another key, this or another server). Scheduled work carries on
/// from it: campaign schedules and retries, v2 scans, analytics. A
/// document that is not one, of another version, with a field that does
/// not fit or a broken invariant (a repeated id, a missing active version,
/// a webhook URL another organization has): 400 naming the problem, and
/// nothing changes. Returns `{"imported": key}`. The document carries no
/// clock: its times are read against this server's clock, so a suite that
/// needs the same timed answers brings a virtual clock to the exporter's
/// time first (`POST /_admin/clock/advance`).
#[utoipa::path(put, path = "/_admin/state", tag = "Control API", params(OrgKeyQuery), request_body = OrgDocumentBody,
    responses((status = 200, description = "`{imported}`"), (status = 400, description = "Bad document or no apiKey"),
              (status = 413, description = "Over `--state-import-bytes` (64 MiB by default)")))]
async fn import_state(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<OrgKeyQuery>,
    ApiJson(body): ApiJson<OrgDocumentBody>,
) -> Reply {
    let k = q.key()?;
    crate::persist::import(&s, k, body.0).await.map_err(ApiError::BadRequest)?;
    Ok(Json(json!({"imported": k})).into_response())
}
