//! The webhook delivery log under `/_admin/webhooks` (a mock extension;
//! the platform has no such API, R158): list deliveries, read one,
//! redeliver one, long-poll for the next match, and clear the log.
//!
//! Each entry holds the exact request sent (URL, headers, body bytes as
//! text) and every attempt's status code, latency (ms), error and the
//! first 2 KiB of the receiver's answer.

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::{long_poll, long_poll_wait};
use crate::domain::DomainError;
use crate::http::error::{ApiError, ApiResult, Reply};
use crate::http::extract::ApiQuery;
use crate::state::AppState;
use crate::webhooks::log::{render, Delivery, DeliveryResult, Filter};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(list_deliveries, clear_deliveries), wait_for_delivery, get_delivery, redeliver_delivery]
}

/// Filters of the delivery log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryQuery {
    /// `CALL-…` id.
    call_id: Option<String>,
    /// Webhook id.
    webhook_id: Option<String>,
    /// Agent id.
    agent_id: Option<String>,
    /// `pre-conversation`, `post-conversation` or `analytics-completed`.
    event: Option<String>,
    /// `PENDING`, `SUCCEEDED` or `FAILED` (any case). When waiting without
    /// `result` or `minAttempts`, only finished deliveries match.
    result: Option<String>,
    /// Only deliveries with at least this many attempts.
    min_attempts: Option<usize>,
    /// Only deliveries logged after this `seq`.
    after: Option<u64>,
    /// Long-poll only: how long to wait, in ms (default 10000, at most 120000).
    timeout_ms: Option<u64>,
}

impl DeliveryQuery {
    fn filter(&self) -> ApiResult<Filter> {
        let result = match self.result.as_deref() {
            None => None,
            Some(r) => Some(DeliveryResult::parse(r).ok_or_else(|| {
                ApiError::BadRequest(format!("result: expected PENDING, SUCCEEDED or FAILED, received '{r}'"))
            })?),
        };
        Ok(Filter {
            call_id: self.call_id.clone(),
            webhook_id: self.webhook_id.clone(),
            agent_id: self.agent_id.clone(),
            event: self.event.clone(),
            result,
            min_attempts: self.min_attempts,
            after: self.after.unwrap_or(0),
            finished: false,
        })
    }
}

/// Deliveries matching the filters, oldest first: `{"deliveries": [...]}`.
/// Each: `{id, seq, webhookId, agentId, callId, event, result, createdAt,
/// nextAttemptAt, error, request: {method, url, headers, body}, attempts:
/// [{attempt, startedAt, statusCode, latencyMs, error, response: {body,
/// truncated}}]}`.
#[utoipa::path(get, path = "/_admin/webhooks/deliveries", tag = "Control API", params(DeliveryQuery),
    responses((status = 200, description = "`{deliveries}`"), (status = 400, description = "Bad filter")))]
async fn list_deliveries(State(s): State<AppState>, ApiQuery(q): ApiQuery<DeliveryQuery>) -> Reply {
    let list: Vec<Value> = s.webhooks.log().list(&q.filter()?).iter().map(render).collect();
    Ok(Json(json!({"deliveries": list})).into_response())
}

/// Forget every logged delivery. `{"cleared": true}`.
#[utoipa::path(delete, path = "/_admin/webhooks/deliveries", tag = "Control API",
    responses((status = 200, description = "`{cleared}`")))]
async fn clear_deliveries(State(s): State<AppState>) -> Response {
    s.webhooks.log().clear();
    Json(json!({"cleared": true})).into_response()
}

/// Long-poll: the first delivery matching the filters, as soon as there
/// is one (at once if one already matches). Without `result` or
/// `minAttempts` only finished deliveries (`SUCCEEDED`/`FAILED`) match.
/// Pass `after=<seq>` to wait for a later one. 408 when `timeoutMs`
/// passes first (wall-clock time); 503 `Server shutting down` when the
/// server stops first.
#[utoipa::path(get, path = "/_admin/webhooks/deliveries/wait", tag = "Control API", params(DeliveryQuery),
    responses((status = 200, description = "A delivery"), (status = 400, description = "Bad filter"),
              (status = 408, description = "No match in time"), (status = 503, description = "Server shutting down")))]
async fn wait_for_delivery(State(s): State<AppState>, ApiQuery(q): ApiQuery<DeliveryQuery>) -> Reply {
    let mut f = q.filter()?;
    f.finished = f.result.is_none() && f.min_attempts.is_none();
    let wait = long_poll_wait(q.timeout_ms);
    Ok(long_poll(&s, wait, "webhook delivery", s.webhooks.log().wait(&f, wait), render).await)
}

/// One delivery; 404 `Delivery not found`.
#[utoipa::path(get, path = "/_admin/webhooks/deliveries/{deliveryId}", tag = "Control API",
    params(("deliveryId" = String, Path, description = "Delivery id (the envelope's `id`)")),
    responses((status = 200, description = "A delivery"), (status = 404, description = "Delivery not found")))]
async fn get_delivery(State(s): State<AppState>, Path(id): Path<String>) -> Reply {
    delivery_answer(s.webhooks.log().get(&id))
}

/// 200 with the delivery (see `GET /_admin/webhooks/deliveries`); 404
/// `Delivery not found` for `None`.
fn delivery_answer(d: Option<Delivery>) -> Reply {
    let d = d.ok_or_else(|| ApiError::Rule(DomainError::NotFound("Delivery not found".into())))?;
    Ok(Json(render(&d)).into_response())
}

/// Send a delivery again now, with the exact same body and headers (same
/// signature and `id`), as one more attempt of the same entry; answers
/// when that attempt is over, with the updated entry. It bypasses the
/// per-call ordering and the retry policy. 404 `Delivery not found`.
#[utoipa::path(post, path = "/_admin/webhooks/deliveries/{deliveryId}/redeliver", tag = "Control API",
    params(("deliveryId" = String, Path, description = "Delivery id")),
    responses((status = 200, description = "The updated delivery"), (status = 404, description = "Delivery not found")))]
async fn redeliver_delivery(State(s): State<AppState>, Path(id): Path<String>) -> Reply {
    delivery_answer(s.webhooks.redeliver(&id).await)
}
