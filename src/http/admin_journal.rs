//! The request journal under `/_admin/journal` (a mock extension; no
//! platform auth): list recorded `/atoms/v1` requests, long-poll for the
//! next match, and clear. Recording itself is the `journal` layer.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{envelope, ApiError, ApiResult};
use super::extract::ApiQuery;
use crate::faults::strip_prefix;
use crate::journal::{render, Filter, StatusMatch};
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_journal, clear_journal)).routes(routes!(wait_for_journal))
}

/// Longest long-poll, in ms.
const MAX_WAIT_MS: u64 = 120_000;
/// Entries per listing unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 1000;

/// Filters of the journal.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct JournalQuery {
    /// Only requests sent with this Bearer token.
    api_key: Option<String>,
    /// Only this method (any case).
    method: Option<String>,
    /// Only paths starting with this (relative to `/atoms/v1` unless it
    /// starts with it), e.g. `/agent`.
    path_prefix: Option<String>,
    /// Only this status code (`503`) or class (`5xx`).
    status: Option<String>,
    /// Only entries with a `seq` greater than this.
    since: Option<u64>,
    /// Listing only: at most this many entries (default 1000), oldest first.
    limit: Option<usize>,
    /// Long-poll only: how long to wait, in ms (default 10000, at most 120000).
    timeout_ms: Option<u64>,
}

impl JournalQuery {
    fn filter(&self) -> ApiResult<Filter> {
        let status = match self.status.as_deref() {
            None => None,
            Some(s) => Some(StatusMatch::parse(s).ok_or_else(|| {
                ApiError::BadRequest(format!("status: expected a code like 503 or a class like 5xx, received '{s}'"))
            })?),
        };
        let path_prefix = match self.path_prefix.as_deref() {
            None => None,
            Some(p) => {
                let rel = strip_prefix(p)
                    .ok_or_else(|| ApiError::BadRequest(format!("pathPrefix: must start with '/', received '{p}'")))?;
                Some(format!("{}{rel}", super::API_PREFIX))
            }
        };
        Ok(Filter {
            api_key: self.api_key.clone(),
            method: self.method.clone(),
            path_prefix,
            status,
            since: self.since.unwrap_or(0),
        })
    }
}

/// Recorded requests matching the filters, oldest first: `{"entries":
/// [...], "lastSeq": <seq of the latest entry recorded, 0 if none>,
/// "capacity": <entries kept>}`. Each entry: `{seq, at (mock clock,
/// ISO-8601 UTC with ms), latencyMs (real time to the response head),
/// method, path, query, apiKey (Bearer token or null), request: {headers
/// (authorization cut to its last 4 characters), body}, response: {status,
/// headers, body, streamed}, fault (rule id or null)}`. A body is `null`
/// when empty, else `{text | base64, size, truncated}` (64 KiB kept);
/// `streamed: true` responses (SSE, WebSocket, downloads) have no body.
/// 400 for a bad `status` or `pathPrefix`.
#[utoipa::path(get, path = "/_admin/journal", tag = "Control API", params(JournalQuery),
    responses((status = 200, description = "`{entries, lastSeq, capacity}`"), (status = 400, description = "Bad filter")))]
async fn list_journal(State(s): State<AppState>, ApiQuery(q): ApiQuery<JournalQuery>) -> ApiResult<Response> {
    let (entries, last_seq) = s.journal.list(&q.filter()?, q.limit.unwrap_or(DEFAULT_LIMIT));
    let entries: Vec<Value> = entries.iter().map(|e| render(e)).collect();
    Ok(Json(json!({"entries": entries, "lastSeq": last_seq, "capacity": s.journal.capacity()})).into_response())
}

/// Forget every recorded request; numbering goes on. `{"cleared": true}`.
#[utoipa::path(delete, path = "/_admin/journal", tag = "Control API",
    responses((status = 200, description = "`{cleared}`")))]
async fn clear_journal(State(s): State<AppState>) -> Response {
    s.journal.clear();
    Json(json!({"cleared": true})).into_response()
}

/// Long-poll: the first recorded request matching the filters with a `seq`
/// after `since` (at once if one is already there), as one entry (see
/// `GET /_admin/journal`). 408 when `timeoutMs` (wall-clock time) passes
/// first; 400 for a bad filter.
#[utoipa::path(get, path = "/_admin/journal/wait", tag = "Control API", params(JournalQuery),
    responses((status = 200, description = "An entry"), (status = 400, description = "Bad filter"),
              (status = 408, description = "No match in time")))]
async fn wait_for_journal(State(s): State<AppState>, ApiQuery(q): ApiQuery<JournalQuery>) -> ApiResult<Response> {
    let f = q.filter()?;
    let timeout = q.timeout_ms.unwrap_or(10_000).min(MAX_WAIT_MS);
    Ok(match s.journal.wait(&f, Duration::from_millis(timeout)).await {
        Some(e) => Json(render(&e)).into_response(),
        None => envelope(StatusCode::REQUEST_TIMEOUT, &format!("No matching request within {timeout} ms")),
    })
}
