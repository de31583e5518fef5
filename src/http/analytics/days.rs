//! The single-day operations of the Analytics tag: `date` (`YYYY-MM-DD`,
//! a UTC day, required) and `agentId`; minute-level figures of that day.

use crate::http::routes::{router, OpenApiRouter};
use serde::Serialize;

use super::{ok, ZONE};
use crate::domain::analytics::daily;
use crate::domain::analytics::params::{ConcurrencyParams, DayParams};
use crate::domain::analytics::{DayScope, Source};
use crate::http::error::Reply;
use crate::http::extract::{ApiQuery, Org};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    router![get_analytics_concurrency, get_call_start_distribution, get_daily_call_summary]
}

/// Validates the query and answers `figure` over the organization's index.
fn daily<T: Serialize>(t: &Org, p: &DayParams, figure: impl FnOnce(&dyn Source, &DayScope) -> T) -> Reply {
    let day = DayScope::parse(p, ZONE)?;
    let data = figure(&*t.0.analytics().read(), &day);
    Ok(ok(data))
}

/// Calls holding a concurrency slot (from dispatch, ringing included, to
/// their end), minute by minute: `{date, dataPoints: [{minute "HH:MM",
/// concurrentCalls}] (minutes with calls), peakConcurrent, avgConcurrent
/// (over those minutes), totalMinutes}`, and with `includeAgents=true`
/// `byAgent: [{agentId, peakConcurrent, avgConcurrent, totalCalls}]`.
/// 400: `date: Required`, `date: Invalid date 'x', expected YYYY-MM-DD`,
/// a bad `includeAgents` or `agentId`.
#[utoipa::path(get, path = "/analytics/concurrency", tag = "Analytics", params(DayParams, ConcurrencyParams),
    responses((status = 200, description = "`{success, data: {date, dataPoints, peakConcurrent, avgConcurrent, totalMinutes, byAgent?}}`"),
              (status = 400, description = "A bad or missing query parameter")))]
async fn get_analytics_concurrency(t: Org, ApiQuery(p): ApiQuery<DayParams>) -> Reply {
    daily(&t, &p, daily::concurrency)
}

/// Ended calls by the minute they were placed: `{date, dataPoints:
/// [{minute "HH:MM", callCount}] (minutes with calls), totalCalls}`.
#[utoipa::path(get, path = "/analytics/call-start-distribution", tag = "Analytics", params(DayParams),
    responses((status = 200, description = "`{success, data: {date, dataPoints, totalCalls}}`"),
              (status = 400, description = "A bad or missing query parameter")))]
async fn get_call_start_distribution(t: Org, ApiQuery(p): ApiQuery<DayParams>) -> Reply {
    daily(&t, &p, daily::call_start_distribution)
}

/// The day's ended calls (`totalCalls`, `answeredCalls`, `unansweredCalls`
/// = no answer, `failedCalls`, `pickupRate` %, `totalDurationMs`) plus the
/// calls of that day still live now: `inProgressCalls`, `inQueueCalls`
/// (pending included).
#[utoipa::path(get, path = "/analytics/daily-call-summary", tag = "Analytics", params(DayParams),
    responses((status = 200, description = "`{success, data: {date, totalCalls, …, inProgressCalls, inQueueCalls, totalDurationMs}}`"),
              (status = 400, description = "A bad or missing query parameter")))]
async fn get_daily_call_summary(t: Org, ApiQuery(p): ApiQuery<DayParams>) -> Reply {
    daily(&t, &p, daily::daily_call_summary)
}
