//! Call logs (BEHAVIOR R111–R117): the filtered list `GET /conversation`,
//! `POST /conversation/search`, one log `GET /conversation/{id}`, a
//! call's retry family and its recording download URL. The
//! `/conversation/logs/…` paths of the changelog are aliases (L-E1).
//!
//! Every row is rendered from the call engine's record and event log, so
//! the list, the detail, the SSE stream and the webhooks agree. Durations
//! are seconds here (R112); agent call-logs use milliseconds (R039).

use std::sync::Arc;

use crate::http::routes::{router, OpenApiRouter};
use serde_json::{json, Map, Value};

use super::requests::SearchCallsRequest;
use super::sse::is_call_id;
use crate::calls::query::{pagination, LogParams, LogQuery};
use crate::calls::{recording_url, render as call_render};
use crate::domain::ids::is_object_id;
use crate::domain::page::Page;
use crate::domain::DomainError;
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, ApiQuery, OrgPath, OrgState};
use crate::http::render;
use crate::state::AppState;
use crate::store::Tenant;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        list_conversations,
        search_conversations,
        get_conversation,
        list_retries,
        list_retries_alias,
        get_recording_url,
        get_recording_url_alias
    ]
}

fn not_found() -> ApiError {
    ApiError::Rule(DomainError::NotFound("No conversation found".into()))
}

/// List call logs with filters, sort and pagination (R111–R113, L-E5).
/// Root calls only unless `callAttemptFilter` says `retry` or `all`;
/// default sort `updatedAt` desc; `limit` defaults to 5 and is clamped to
/// 500. Returns `{logs: [LogItem], pagination: {total, page, limit,
/// hasMore, totalPages}, dispositionMetricsConfig: [{identifier, type}]}`
/// (the metrics configured on the matching calls, first seen first).
/// `duration` is in seconds; latencies in ms. A bad parameter gives 400
/// naming it.
#[utoipa::path(get, path = "/conversation", tag = "Logs", params(LogParams),
    responses((status = 200, description = "`{logs, pagination, dispositionMetricsConfig}`"),
              (status = 400, description = "A bad query parameter"), (status = 401, description = "Unauthorized")))]
async fn list_conversations(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<LogParams>) -> Reply {
    let q = LogQuery::parse(&p).map_err(ApiError::BadRequest)?;
    let (calls, total, config) = match q.default_order() {
        // The default list reads one page of the book's order, O(log n + page).
        Some(ascending) => {
            let page = t.calls().roots_page(ascending, Page::numbered(q.page, q.limit));
            (page.calls, page.total, metrics_config(page.configs))
        }
        // Anything else filters and sorts every call, O(n log n).
        None => {
            let matches = t.calls().list(|c| q.matches(c));
            let config = metrics_config(matches.iter().map(call_render::disposition_config));
            let page = q.select(matches);
            (page.calls, page.total, config)
        }
    };
    let base = s.calls.public_url();
    let logs: Vec<Value> = calls.iter().map(|c| call_render::list_row(c, &base)).collect();
    Ok(render::ok(json!({
        "logs": logs, "pagination": pagination(total, q.page, q.limit), "dispositionMetricsConfig": config,
    })))
}

/// The distinct `{identifier, type}` metric definitions of `lists` (each
/// call's, in creation order), first seen first.
fn metrics_config(lists: impl IntoIterator<Item = Vec<Value>>) -> Vec<Value> {
    let mut seen = Map::new();
    for def in lists.into_iter().flatten() {
        if let Some(id) = def.get("identifier").and_then(Value::as_str) {
            if !seen.contains_key(id) {
                seen.insert(id.to_string(), def);
            }
        }
    }
    seen.into_iter().map(|(_, v)| v).collect()
}

/// Fetch up to 100 call logs by `callId` (R114), including retry calls.
/// Unknown and other organizations' ids are skipped; duplicates count
/// once. Rows lack `dispositionMetrics`, `agentDispositionConfig` and
/// `versionNumber`. Returns `{logs, total (found), requestedCount}`.
/// Fewer than 1 or more than 100 ids: 400.
#[utoipa::path(post, path = "/conversation/search", tag = "Logs",
    request_body = SearchCallsRequest,
    responses((status = 200, description = "`{logs, total, requestedCount}`"),
              (status = 400, description = "callIds missing, empty or over 100")))]
async fn search_conversations(OrgState(s, t): OrgState, ApiJson(body): ApiJson<SearchCallsRequest>) -> Reply {
    let ids = body.call_ids;
    let base = s.calls.public_url();
    let mut seen = std::collections::HashSet::new();
    let logs: Vec<Value> = ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .filter_map(|id| t.calls().get(id))
        .map(|(c, _)| call_render::search_row(&c, &base))
        .collect();
    Ok(render::ok(json!({"total": logs.len(), "logs": logs, "requestedCount": ids.len()})))
}

/// One call log by `callId` (R115): transcript, variables, events,
/// latency statistics (ms), duration (s), cost, version and analytics,
/// all from the scenario that ran. Unknown or foreign: 404 `No
/// conversation found`.
#[utoipa::path(get, path = "/conversation/{id}", tag = "Logs", params(("id" = String, Path, description = "callId")),
    responses((status = 200, description = "Call detail"), (status = 404, description = "No conversation found")))]
async fn get_conversation(OrgPath(s, t, id): OrgPath<String>) -> Reply {
    let (call, hub) = t.calls().get(&id).ok_or_else(not_found)?;
    let agent = s
        .store
        .read_agent(&t, &call.agent_id, |r| crate::http::agents::render::agent_json(r, None))
        .unwrap_or_default();
    Ok(render::ok_raw(&call_render::detail(&call, &agent, &hub.events(), &s.calls.public_url())))
}

/// R117's 403 for another organization's call (the spec describes it,
/// the words are inferred from that description).
const FOREIGN_CALL: &str = "Access denied — the call belongs to a different organization.";

fn retries(s: &AppState, t: &Arc<Tenant>, call_id: &str) -> Reply {
    let family = t.calls().family(call_id).ok_or_else(|| {
        if s.store.held_elsewhere(t, |o| o.calls().contains(call_id)) {
            ApiError::Rule(DomainError::Forbidden(FOREIGN_CALL.into()))
        } else {
            not_found()
        }
    })?;
    let base = s.calls.public_url();
    let rows: Vec<Value> = family.iter().map(|c| call_render::list_row(c, &base)).collect();
    Ok(render::ok(json!({"retries": rows})))
}

/// The retry family of any of its calls (R117): `{retries: [parent,
/// retry1, …]}`, parent first then attempt order, each shaped like a
/// `GET /conversation` row. Unknown call: 404 `No conversation found`;
/// another organization's: 403 `Access denied — the call belongs to a
/// different organization.` (R016, R117, as the spec has it).
#[utoipa::path(get, path = "/conversation/{callId}/retries", tag = "Conversations",
    params(("callId" = String, Path, description = "Any callId of the family")),
    responses((status = 200, description = "`{retries}`"), (status = 403, description = "Another organization's call"),
              (status = 404, description = "No conversation found")))]
async fn list_retries(OrgPath(s, t, call_id): OrgPath<String>) -> Reply {
    retries(&s, &t, &call_id)
}

/// Alias of `GET /conversation/{callId}/retries` at the changelog's path
/// (L-E1); same shape and errors.
#[utoipa::path(get, path = "/conversation/logs/{callId}/retries", tag = "Conversations",
    params(("callId" = String, Path, description = "Any callId of the family")),
    responses((status = 200, description = "`{retries}`"), (status = 403, description = "Another organization's call"),
              (status = 404, description = "No conversation found")))]
async fn list_retries_alias(OrgPath(s, t, call_id): OrgPath<String>) -> Reply {
    retries(&s, &t, &call_id)
}

fn recording(s: &AppState, t: &Tenant, call_id: &str) -> Reply {
    if is_object_id(call_id) || !is_call_id(call_id) {
        return Err(ApiError::BadRequest("Invalid call ID format".into()));
    }
    let (call, _) = t.calls().get(call_id).ok_or_else(not_found)?;
    if call.recording_ms().is_none_or(|ms| ms == 0) {
        return Err(ApiError::Rule(DomainError::NotFound("No recording found for this call".into())));
    }
    Ok(render::ok(json!({"presignedUrl": recording_url(&s.calls.public_url(), call_id)})))
}

/// A download URL for the call's recording (R116): `{presignedUrl}`, a
/// URL on this mock (`/_recordings/<callId>.wav?sig=…`) serving a real
/// WAV as long as the recording. Unlike S3's, the mock's URL does not
/// expire. A Mongo `_id` or any other non-`CALL-…` id: 400 `Invalid call
/// ID format`; unknown or foreign call: 404 `No conversation found`; a
/// call without a recording (never connected, or still running): 404 `No
/// recording found for this call`.
#[utoipa::path(get, path = "/conversation/{callId}/recording/download-url", tag = "Conversations",
    params(("callId" = String, Path, description = "CALL-… id (not the `_id`)")),
    responses((status = 200, description = "`{presignedUrl}`"), (status = 400, description = "Invalid call ID format"),
              (status = 404, description = "No recording found")))]
async fn get_recording_url(OrgPath(s, t, call_id): OrgPath<String>) -> Reply {
    recording(&s, &t, &call_id)
}

/// Alias of `GET /conversation/{callId}/recording/download-url` at the
/// changelog's path (L-E1); same shape and errors.
#[utoipa::path(get, path = "/conversation/logs/{callId}/recording/download-url", tag = "Conversations",
    params(("callId" = String, Path, description = "CALL-… id (not the `_id`)")),
    responses((status = 200, description = "`{presignedUrl}`"), (status = 400, description = "Invalid call ID format"),
              (status = 404, description = "No recording found")))]
async fn get_recording_url_alias(OrgPath(s, t, call_id): OrgPath<String>) -> Reply {
    recording(&s, &t, &call_id)
}
