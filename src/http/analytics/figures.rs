//! The ranged operations of the Analytics tag: each takes `agentId`,
//! `campaignId`, `callType`, `dateFrom` and `dateTo` (rule A5: calls placed
//! by `createdAt`, both ends inclusive, the last 30 days by default) and
//! answers one pure figure of `crate::domain::analytics` over the
//! organization's ended calls (A1). `usage/timeseries` takes only the range.

use crate::http::routes::{router, OpenApiRouter};
use serde::Serialize;

use super::{ok, ZONE};
use crate::domain::analytics::params::{PeriodParams, RangeParams, Rank, RankParams};
use crate::domain::analytics::{figures, groups, panels, Scope, Source};
use crate::http::error::Reply;
use crate::http::extract::{ApiQuery, OrgState};
use crate::state::AppState;
use crate::store::Tenant;

pub(super) fn router() -> OpenApiRouter<AppState> {
    router![
        get_dashboard,
        get_analytics_summary,
        get_call_volume_timeseries,
        get_call_outcomes_timeseries,
        get_pickup_rate_by_number,
        get_phone_number_trends,
        get_hourly_performance,
        get_duration_stats,
        get_weekly_trends,
        get_agent_performance,
        get_attempt_cohort,
        get_call_counts_by_day,
        get_usage_timeseries
    ]
}

/// Validates the query at the clock's now and answers `figure` over the
/// organization's index (read-locked for the figure only).
fn ranged<T: Serialize>(
    s: &AppState,
    t: &Tenant,
    p: &PeriodParams,
    figure: impl FnOnce(&dyn Source, &str, &Scope) -> T,
) -> Reply {
    let scope = Scope::parse(p, s.store.clock().now(), ZONE)?;
    let data = figure(&*t.analytics().read(), t.org_id(), &scope);
    Ok(ok(data))
}

/// All six dashboard panels in one answer: `summary`,
/// `callVolumeTimeseries`, `callOutcomesTimeseries`, `pickupRateByNumber`,
/// `hourlyPerformance`, `durationStats`, each exactly what its own
/// operation answers for the same query.
#[utoipa::path(get, path = "/analytics/dashboard", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {summary, callVolumeTimeseries, callOutcomesTimeseries, pickupRateByNumber, hourlyPerformance, durationStats}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_dashboard(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, figures::dashboard)
}

/// KPIs of the range against the range of the same length just before:
/// `totalCalls`, `pickupRate` (%), `avgDurationMs`, `totalDurationMs`,
/// `uniqueUsersReached`, `totalCost` (credits), each `{current, previous,
/// percentChange}`; `medianDurationMs`, `period`, `previousPeriod`.
#[utoipa::path(get, path = "/analytics/summary", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, totalCalls, pickupRate, …, period, previousPeriod}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_analytics_summary(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, figures::summary)
}

/// Per UTC day with calls: `{date, totalCalls, answeredCalls,
/// noAnswerCalls, failedCalls, cancelledCalls, totalDurationMs}`.
#[utoipa::path(get, path = "/analytics/call-volume-timeseries", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, dataPoints, period}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_call_volume_timeseries(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, panels::call_volume)
}

/// Per UTC day with calls: `{date, answered, noAnswer, failed, cancelled,
/// total}`, plus the range's `totals`.
#[utoipa::path(get, path = "/analytics/call-outcomes-timeseries", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, dataPoints, totals, period}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_call_outcomes_timeseries(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, panels::call_outcomes)
}

/// Per organization number (`from` of outbound calls, `to` of inbound,
/// A8): `{phoneNumber, totalCalls, answeredCalls, pickupRate,
/// lastActiveDate}`.
#[utoipa::path(get, path = "/analytics/pickup-rate-by-number", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, numbers, period}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_pickup_rate_by_number(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, panels::pickup_by_number)
}

/// Per organization number, its days with calls: `{phoneNumber,
/// dataPoints: [{date, totalCalls, answeredCalls, pickupRate}]}`.
#[utoipa::path(get, path = "/analytics/phone-number-trends", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, trends, period}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_phone_number_trends(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, groups::phone_number_trends)
}

/// The 24 UTC hours, always all of them: `{hour, totalCalls,
/// answeredCalls, pickupRate, totalDurationMs, avgDurationMs}`.
#[utoipa::path(get, path = "/analytics/hourly-performance", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, hours, period}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_hourly_performance(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, panels::hourly_performance)
}

/// Talk time of answered calls (ms): average, median, p90, p95, the share
/// under 30 s and of 5 min or more (%), `totalCalls` (answered calls, the
/// population) and `totalDurationMs`.
#[utoipa::path(get, path = "/analytics/duration-stats", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, avgDurationMs, …, period}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_duration_stats(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, panels::duration_stats)
}

/// Per week with calls (starting Monday, UTC): counts, pickup rate and
/// talk time in **seconds** (`avgDuration`, `medianDuration`,
/// `p90Duration`), short and long shares (%).
#[utoipa::path(get, path = "/analytics/weekly-trends", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, weeks, period}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_weekly_trends(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, groups::weekly_trends)
}

/// Per agent with calls: `{agentId, totalCalls, answeredCalls, pickupRate,
/// avgDuration (s), totalCost}`, sorted by `sortBy` (`totalCalls` by
/// default) in `sortOrder` (`desc` by default), ties by agent id, cut to
/// `limit`. 400 for another `sortBy`/`sortOrder` or a `limit` under 1.
#[utoipa::path(get, path = "/analytics/agent-performance", tag = "Analytics", params(PeriodParams, RankParams),
    responses((status = 200, description = "`{success, data: {orgId, agents, period}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_agent_performance(
    OrgState(s, t): OrgState,
    ApiQuery(p): ApiQuery<PeriodParams>,
    ApiQuery(r): ApiQuery<RankParams>,
) -> Reply {
    let rank = Rank::parse(&r)?;
    ranged(&s, &t, &p, |src, org, scope| groups::agent_performance(src, org, scope, rank))
}

/// Pickup by attempt number (1 = first attempt; the cohort is the retry
/// family, R121): per attempt `{attemptNumber, totalCalls, answeredCalls,
/// pickupRate, cumulativeAnswered, cumulativeRate, marginalGain}`, plus
/// `totalUniqueNumbers`, `maxAttemptsSeen`, `avgAttemptsToPickup`.
#[utoipa::path(get, path = "/analytics/attempt-cohort", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, cohorts, totalUniqueNumbers, maxAttemptsSeen, avgAttemptsToPickup, period}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_attempt_cohort(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, groups::attempt_cohort)
}

/// Ended calls per UTC day with calls: `{orgId, callCountsByDay: [{day,
/// count}]}`.
#[utoipa::path(get, path = "/analytics/call-counts-by-day", tag = "Analytics", params(PeriodParams),
    responses((status = 200, description = "`{success, data: {orgId, callCountsByDay}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_call_counts_by_day(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<PeriodParams>) -> Reply {
    ranged(&s, &t, &p, groups::call_counts_by_day)
}

/// Credits spent per UTC day: the `callCost` of the calls created that
/// day plus the ledger's other usage rows of that day (number rental and
/// renewal, prompt scoring): `{dateRange: {from, to}, dayWiseCredits: [{date, credits}],
/// totalCredits}`. Takes only `dateFrom`/`dateTo`.
#[utoipa::path(get, path = "/analytics/usage/timeseries", tag = "Analytics", params(RangeParams),
    responses((status = 200, description = "`{success, data: {dateRange, dayWiseCredits, totalCredits}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_usage_timeseries(OrgState(s, t): OrgState, ApiQuery(p): ApiQuery<RangeParams>) -> Reply {
    let range = p.parse(s.store.clock().now(), ZONE)?;
    let other = s.store.with_account(&t, |a, ids, now| a.non_call_usage(range.from, range.to, ids, now));
    let data = groups::usage_timeseries(&*t.analytics().read(), &other, range, ZONE);
    Ok(ok(data))
}
