//! Control API for the Do-Not-Call list (a mock extension under `/_admin`,
//! no platform auth): the "manual upload" the spec names as one of the two
//! ways an entry is created, a full listing, and clearing the list.

use crate::http::routes::{router, OpenApiRouter};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::{AdminOrg, OrgKeyQuery};
use crate::http::error::Reply;
use crate::http::extract::ApiJson;
use crate::http::json::RequestBody;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(list_dnc, upload_dnc, clear_dnc)]
}

/// Every entry of an organization's list, newest first: `{apiKey,
/// entries: [<GET /dnc item>], total}`. Missing `apiKey`: 400.
#[utoipa::path(get, path = "/_admin/dnc", tag = "Control API", params(OrgKeyQuery),
    responses((status = 200, description = "`{apiKey, entries, total}`"), (status = 400, description = "apiKey missing")))]
async fn list_dnc(AdminOrg(s, key, t): AdminOrg) -> Reply {
    let entries = s.store.dnc_entries(&t);
    Ok(Json(json!({"apiKey": key, "total": entries.len(), "entries": entries})).into_response())
}

/// `POST /_admin/dnc`: a manual upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UploadDncRequest {
    /// 1 to 10000 numbers, E.164 with or without `+`.
    #[schema(value_type = Vec<String>, min_items = 1, max_items = 10000)]
    phone_numbers: Option<Value>,
    /// Scope the entries to this agent (24 hex); absent: the whole
    /// organization.
    #[schema(value_type = Option<String>)]
    agent_id: Option<Value>,
}

impl RequestBody for UploadDncRequest {}

/// Upload numbers to an organization's list (source `manual_upload`):
/// `{"phoneNumbers": ["+14155550123", ...], "agentId"?}`. All or nothing;
/// a number already listed in that scope is skipped. Returns `{added,
/// skipped}`. Errors (nothing changes): 400 with the field's message
/// (`phoneNumbers.2: Invalid phone number`), 400 when the list would pass
/// 10000 entries, 404 `Agent not found`; missing `apiKey`: 400.
#[utoipa::path(post, path = "/_admin/dnc", tag = "Control API", params(OrgKeyQuery), request_body = UploadDncRequest,
    responses((status = 200, description = "`{added, skipped}`"), (status = 400, description = "Bad body or apiKey missing"),
              (status = 404, description = "Agent not found")))]
async fn upload_dnc(AdminOrg(s, _key, t): AdminOrg, ApiJson(body): ApiJson<UploadDncRequest>) -> Reply {
    let summary = s.store.dnc_upload(&t, &json!({"phoneNumbers": body.phone_numbers, "agentId": body.agent_id}))?;
    Ok(Json(summary).into_response())
}

/// Remove every entry of an organization's list. Returns `{apiKey,
/// cleared}` (the number of entries removed). Missing `apiKey`: 400.
#[utoipa::path(delete, path = "/_admin/dnc", tag = "Control API", params(OrgKeyQuery),
    responses((status = 200, description = "`{apiKey, cleared}`"), (status = 400, description = "apiKey missing")))]
async fn clear_dnc(AdminOrg(_s, key, t): AdminOrg) -> Reply {
    let mut list = t.dnc();
    let cleared = list.len();
    list.clear();
    Ok(Json(json!({"apiKey": key, "cleared": cleared})).into_response())
}
