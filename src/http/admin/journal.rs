//! The request journal under `/_admin/journal` (a mock extension; no
//! platform auth): list recorded `/atoms/v1` requests, long-poll for the
//! next match, and clear. Recording itself is the `journal` layer.

use std::sync::Arc;

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::{long_poll, long_poll_wait};
use crate::faults::strip_prefix;
use crate::http::error::{ApiError, ApiResult, Reply};
use crate::http::extract::ApiQuery;
use crate::journal::{render, Entry, Filter, StatusMatch};
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(list_journal, clear_journal), wait_for_journal]
}

/// Entries per listing unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 1000;
/// Most bytes of rendered entries in one listing (1 MiB); a page always
/// holds at least one entry (one is at most about 400 KiB: two 64 KiB
/// bodies, base64 at worst, and headers).
const PAGE_BYTES: usize = 1024 * 1024;

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
    /// Listing only: at most this many entries (default 1000), oldest
    /// first; a page also stops before 1 MiB of entries.
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
                Some(format!("{}{rel}", crate::http::API_PREFIX))
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

/// Recorded requests matching the filters, oldest first, a page at a
/// time: `{"entries": [...], "nextSince": <seq>|null, "lastSeq": <seq of
/// the latest entry recorded, 0 if none>, "capacity": <entries kept at
/// most>, "budgetBytes": <bytes kept at most>, "usedBytes": <bytes kept
/// now>, "waiting": <long-polls in progress>}`. A page ends after `limit`
/// entries or before its entries pass 1 MiB of JSON; `nextSince` is then
/// the `seq` to pass as `since` for the next page (null on the last page). Each entry: `{seq, at (mock clock,
/// ISO-8601 UTC with ms), latencyMs (real time to the response head),
/// method, path, query, apiKey (Bearer token or null), request: {headers
/// (authorization cut to its last 4 characters), body}, response: {status,
/// headers, body, streamed}, fault (rule id or null)}`. A body is `null`
/// when empty, else `{text | base64, size, truncated}`: the first 64 KiB
/// are kept, `size` is the whole length (for a body refused with 413
/// before it was read, the declared `Content-Length`, with no text);
/// `streamed: true` responses (SSE, WebSocket, downloads) have no body.
/// 400 for a bad `status` or `pathPrefix`.
#[utoipa::path(get, path = "/_admin/journal", tag = "Control API", params(JournalQuery),
    responses((status = 200, description = "`{entries, nextSince, lastSeq, capacity, budgetBytes, usedBytes, waiting}`"), (status = 400, description = "Bad filter")))]
async fn list_journal(State(s): State<AppState>, ApiQuery(q): ApiQuery<JournalQuery>) -> Reply {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    let (entries, last_seq) = s.journal.list(&q.filter()?, limit.saturating_add(1));
    let (mut page, next_since) = page_of(&entries, limit);
    let (_, used) = s.journal.usage();
    let tail = json!({"nextSince": next_since, "lastSeq": last_seq, "capacity": s.journal.capacity(),
        "budgetBytes": s.journal.budget(), "usedBytes": used, "waiting": s.journal.waiting()});
    page.extend_from_slice(b"],");
    page.extend_from_slice(&tail.to_string().as_bytes()[1..]);
    Ok(([(header::CONTENT_TYPE, "application/json")], page).into_response())
}

/// `{"entries":[…` of the first `limit` entries that fit in [`PAGE_BYTES`]
/// (at least one), and the `nextSince` of the next page, if any.
fn page_of(entries: &[Arc<Entry>], limit: usize) -> (Vec<u8>, Option<u64>) {
    let mut page = b"{\"entries\":[".to_vec();
    for (shown, e) in entries.iter().enumerate() {
        let mark = page.len();
        if shown > 0 {
            page.push(b',');
        }
        let written = serde_json::to_writer(&mut page, &render(e));
        if shown == limit || (shown > 0 && page.len() > PAGE_BYTES) || written.is_err() {
            page.truncate(mark);
            return (page, entries.get(shown.saturating_sub(1)).map(|e| e.seq).filter(|_| shown > 0));
        }
    }
    (page, None)
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
/// first; 503 `Server shutting down` when the server stops first; 400 for
/// a bad filter.
#[utoipa::path(get, path = "/_admin/journal/wait", tag = "Control API", params(JournalQuery),
    responses((status = 200, description = "An entry"), (status = 400, description = "Bad filter"),
              (status = 408, description = "No match in time"), (status = 503, description = "Server shutting down")))]
async fn wait_for_journal(State(s): State<AppState>, ApiQuery(q): ApiQuery<JournalQuery>) -> Reply {
    let (f, wait) = (q.filter()?, long_poll_wait(q.timeout_ms));
    Ok(long_poll(&s, wait, "request", s.journal.wait(&f, wait), |e| render(e)).await)
}
