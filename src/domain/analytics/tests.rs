//! Every operation's figures on one small, hand-computed organization.
//!
//! Monday 2026-01-05 (T0) to Wednesday 2026-01-07, agents A and B, lines
//! L1 and L2, campaign C:
//!
//! | # | agent | type     | line→customer | created       | status      | talk  | cost | attempt |
//! |---|-------|----------|---------------|---------------|-------------|-------|------|---------|
//! | 1 | A     | outbound | L1→c1         | 05 09:00:00   | completed   | 60 s  | 0.5  | 1       |
//! | 2 | A     | outbound | L1→c2         | 05 09:00:30   | no_answer   |       |      | 1       |
//! | 3 | A     | outbound | L1→c2         | 06 09:05      | completed   | 20 s  | 0.25 | 2 (of 2)|
//! | 4 | B (C) | outbound | L2→c3         | 05 10:00      | failed      |       |      | 1       |
//! | 5 | B (C) | outbound | L2→c4         | 06 10:30      | completed   | 400 s | 1.0  | 1       |
//! | 6 | B     | inbound  | c5→L1         | 06 23:50      | completed   | 120 s | 0.3  | 1       |
//! | 7 | A     | webcall  |               | 07 00:10      | cancelled   |       | 0.1  | 1       |
//! | 8 | A     | outbound | L1→c6         | 07 00:20      | in_progress |       |      | 1       |
//! | 9 | A     | outbound | L1→c7         | 07 00:21      | pending     |       |      | 1       |
//!
//! Answered calls ring 10 s first; unanswered ones end 30 s after they are
//! placed. A 2-credit number rental is debited on the 6th at noon.

use serde_json::{json, Value};

use super::daily::{call_start_distribution, concurrency, daily_call_summary};
use super::figures::{dashboard, summary};
use super::groups::{agent_performance, attempt_cohort, call_counts_by_day, usage_timeseries, weekly_trends};
use super::log::{self, log_row, RowContext};
use super::params::{DayParams, PeriodParams, Rank, RankParams};
use super::*;
use crate::domain::call::CallStatus;

pub(super) const T0: Millis = 1_767_571_200_000;
pub(super) const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
pub(super) const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";
pub(super) const C: &str = "cccccccccccccccccccccccc";
const L1: &str = "+15550000001";
const L2: &str = "+15550000002";

/// A call of `agent` placed at `created`, ended with `status` after `talk`
/// seconds of conversation (`None`: never answered), or live.
pub(super) fn call(n: u32, agent: &str, created: Millis, status: CallStatus, talk: Option<i64>) -> CallFacts {
    let ended = status.is_terminal();
    let connected = talk.map(|_| created + 10_000);
    CallFacts {
        call_id: format!("CALL-{}-{n:06x}", 1_767_571_200_000i64 + i64::from(n)),
        agent_id: agent.into(),
        campaign_id: None,
        kind: CallKind::Outbound,
        status,
        from: Some(L1.into()),
        to: Some(format!("+1555111000{n}")),
        created_at: created,
        started_at: Some(created),
        connected_at: connected,
        ended_at: ended.then(|| connected.map_or(created + 30_000, |c| c + talk.unwrap_or(0) * 1000)),
        cost: 0.0,
        attempt: 0,
        family: format!("CALL-{}-{n:06x}", 1_767_571_200_000i64 + i64::from(n)),
        is_test: false,
        disconnect_reason: ended.then(|| "user_hangup".into()),
        avg_latency_ms: 0.0,
    }
}

fn at(day: i64, h: i64, m: i64, s: i64) -> Millis {
    T0 + day * DAY + h * HOUR + m * MINUTE + s * 1000
}

/// The nine calls of the table.
pub(super) fn org() -> Vec<CallFacts> {
    use CallStatus as S;
    let mut c = vec![
        CallFacts { cost: 0.5, ..call(1, A, at(0, 9, 0, 0), S::Completed, Some(60)) },
        call(2, A, at(0, 9, 0, 30), S::NoAnswer, None),
        CallFacts { cost: 0.25, attempt: 1, ..call(3, A, at(1, 9, 5, 0), S::Completed, Some(20)) },
        CallFacts {
            from: Some(L2.into()),
            campaign_id: Some(C.into()),
            ..call(4, B, at(0, 10, 0, 0), S::Failed, None)
        },
        CallFacts {
            from: Some(L2.into()),
            campaign_id: Some(C.into()),
            cost: 1.0,
            ..call(5, B, at(1, 10, 30, 0), S::Completed, Some(400))
        },
        CallFacts {
            kind: CallKind::Inbound,
            from: Some("+15559990006".into()),
            to: Some(L1.into()),
            cost: 0.3,
            ..call(6, B, at(1, 23, 50, 0), S::Completed, Some(120))
        },
        CallFacts {
            kind: CallKind::Webcall,
            from: None,
            to: None,
            cost: 0.1,
            ..call(7, A, at(2, 0, 10, 0), S::Cancelled, None)
        },
        call(8, A, at(2, 0, 20, 0), S::InProgress, None),
        CallFacts { started_at: None, ..call(9, A, at(2, 0, 21, 0), S::Pending, None) },
    ];
    c[2].to = c[1].to.clone();
    c[2].family = c[1].call_id.clone();
    c
}

/// The organization's non-call spend: a 2-credit number rental on the
/// 6th at noon.
fn rental() -> [(Millis, i64); 1] {
    [(at(1, 12, 0, 0), 2_000_000)]
}

fn index() -> Index {
    let mut ix = Index::new();
    for f in org() {
        ix.record(&f);
    }
    ix
}

fn scope(pairs: &[(&str, &str)]) -> Scope {
    let map: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    let p: PeriodParams = serde_json::from_value(Value::Object(map)).unwrap_or_default();
    Scope::parse(&p, at(2, 1, 0, 0), Zone::UTC).expect("valid")
}

fn three_days() -> Scope {
    scope(&[("dateFrom", "2026-01-05"), ("dateTo", "2026-01-07")])
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

#[test]
fn summary_counts_ended_calls_against_an_empty_previous_period() {
    let s = json(&summary(&index(), "org", &three_days()));
    assert_eq!(s["totalCalls"], json!({"current": 7.0, "previous": 0.0, "percentChange": 100.0}));
    assert_eq!(s["pickupRate"]["current"], 57.14);
    assert_eq!(s["avgDurationMs"]["current"], 150_000.0);
    assert_eq!(s["medianDurationMs"], 90_000.0);
    assert_eq!(s["totalDurationMs"]["current"], 600_000.0);
    assert_eq!(s["uniqueUsersReached"]["current"], 4.0);
    assert_eq!(s["totalCost"]["current"], 2.15);
    assert_eq!(s["period"], json!({"from": "2026-01-05", "to": "2026-01-07"}));
    assert_eq!(s["previousPeriod"], json!({"from": "2026-01-02", "to": "2026-01-04"}));
}

#[test]
fn the_previous_period_is_compared_when_it_has_calls() {
    let s = json(&summary(&index(), "org", &scope(&[("dateFrom", "2026-01-06"), ("dateTo", "2026-01-06")])));
    // The 6th (3 calls, all answered) against the 5th (3 calls, 1 answered).
    assert_eq!(s["totalCalls"], json!({"current": 3.0, "previous": 3.0, "percentChange": 0.0}));
    assert_eq!(s["pickupRate"], json!({"current": 100.0, "previous": 33.33, "percentChange": 200.03}));
    assert_eq!(s["totalCost"], json!({"current": 1.55, "previous": 0.5, "percentChange": 210.0}));
}

#[test]
fn dashboard_panels_break_the_period_down_by_day_hour_number_and_duration() {
    let d = json(&dashboard(&index(), "org", &three_days()));
    let days = &d["callVolumeTimeseries"]["dataPoints"];
    assert_eq!(days.as_array().map(Vec::len), Some(3));
    assert_eq!(
        days[0],
        json!({"date": "2026-01-05", "totalCalls": 3, "answeredCalls": 1, "noAnswerCalls": 1,
               "failedCalls": 1, "cancelledCalls": 0, "totalDurationMs": 60_000})
    );
    assert_eq!(days[1]["totalDurationMs"], 540_000);
    let outcomes = &d["callOutcomesTimeseries"];
    assert_eq!(outcomes["totals"], json!({"answered": 4, "noAnswer": 1, "failed": 1, "cancelled": 1, "total": 7}));
    assert_eq!(
        outcomes["dataPoints"][2],
        json!({"date": "2026-01-07", "answered": 0, "noAnswer": 0, "failed": 0, "cancelled": 1, "total": 1})
    );
    assert_eq!(
        d["pickupRateByNumber"]["numbers"],
        json!([
            {"phoneNumber": L1, "totalCalls": 4, "answeredCalls": 3, "pickupRate": 75.0, "lastActiveDate": "2026-01-06"},
            {"phoneNumber": L2, "totalCalls": 2, "answeredCalls": 1, "pickupRate": 50.0, "lastActiveDate": "2026-01-06"},
        ])
    );
    let hours = &d["hourlyPerformance"]["hours"];
    assert_eq!(hours.as_array().map(Vec::len), Some(24));
    assert_eq!(
        hours[9],
        json!({"hour": 9, "totalCalls": 3, "answeredCalls": 2, "pickupRate": 66.67, "totalDurationMs": 80_000, "avgDurationMs": 40_000.0})
    );
    assert_eq!(hours[0]["totalCalls"], 1);
    assert_eq!(hours[5]["totalCalls"], 0);
    let stats = &d["durationStats"];
    assert_eq!(
        (stats["avgDurationMs"].clone(), stats["medianDurationMs"].clone()),
        (json!(150_000.0), json!(90_000.0))
    );
    assert_eq!((stats["p90DurationMs"].clone(), stats["p95DurationMs"].clone()), (json!(400_000.0), json!(400_000.0)));
    assert_eq!((stats["shortCallsPercent"].clone(), stats["longCallsPercent"].clone()), (json!(25.0), json!(25.0)));
    assert_eq!((stats["totalCalls"].clone(), stats["totalDurationMs"].clone()), (json!(4), json!(600_000)));
    assert_eq!(d["summary"], json(&summary(&index(), "org", &three_days())));
}

#[test]
fn filters_select_agents_campaigns_and_call_types() {
    let only_b = json(&summary(&index(), "org", &scope(&[("dateFrom", "2026-01-05"), ("agentId", B)])));
    assert_eq!(only_b["totalCalls"]["current"], 3.0);
    let campaign = json(&summary(&index(), "org", &scope(&[("dateFrom", "2026-01-05"), ("campaignId", C)])));
    assert_eq!(
        (campaign["totalCalls"]["current"].clone(), campaign["totalCost"]["current"].clone()),
        (json!(2.0), json!(1.0))
    );
    let inbound = json(&summary(&index(), "org", &scope(&[("dateFrom", "2026-01-05"), ("callType", "inbound")])));
    assert_eq!(inbound["totalCalls"]["current"], 1.0);
    let morning = json(&summary(
        &index(),
        "org",
        &scope(&[("dateFrom", "2026-01-05T09:00:00Z"), ("dateTo", "2026-01-05T09:00:29.999Z")]),
    ));
    assert_eq!(morning["totalCalls"]["current"], 1.0, "dateTo is inclusive to the millisecond");
}

#[test]
fn agents_rank_by_the_requested_key() {
    let rank = |p: RankParams| Rank::parse(&p).expect("valid");
    let a = json(&agent_performance(&index(), "org", &three_days(), rank(RankParams::default())));
    assert_eq!(
        a["agents"],
        json!([
            {"agentId": A, "totalCalls": 4, "answeredCalls": 2, "pickupRate": 50.0, "avgDuration": 40.0, "totalCost": 0.85},
            {"agentId": B, "totalCalls": 3, "answeredCalls": 2, "pickupRate": 66.67, "avgDuration": 260.0, "totalCost": 1.3},
        ])
    );
    let by_rate = RankParams { sort_by: Some("pickupRate".into()), limit: Some("1".into()), ..RankParams::default() };
    let a = json(&agent_performance(&index(), "org", &three_days(), rank(by_rate)));
    assert_eq!(a["agents"].as_array().map(|v| v.iter().map(|x| x["agentId"].clone()).collect()), Some(vec![json!(B)]));
}

#[test]
fn attempt_cohorts_accumulate_over_retry_families() {
    let c = json(&attempt_cohort(&index(), "org", &three_days()));
    assert_eq!(
        c["cohorts"],
        json!([
            {"attemptNumber": 1, "totalCalls": 6, "answeredCalls": 3, "pickupRate": 50.0,
             "cumulativeAnswered": 3, "cumulativeRate": 50.0, "marginalGain": 50.0},
            {"attemptNumber": 2, "totalCalls": 1, "answeredCalls": 1, "pickupRate": 100.0,
             "cumulativeAnswered": 4, "cumulativeRate": 66.67, "marginalGain": 16.67},
        ])
    );
    assert_eq!((c["totalUniqueNumbers"].clone(), c["maxAttemptsSeen"].clone()), (json!(5), json!(2)));
    assert_eq!(c["avgAttemptsToPickup"], 1.25);
}

#[test]
fn weeks_start_on_monday_and_report_seconds() {
    let w = json(&weekly_trends(&index(), "org", &three_days()));
    assert_eq!(
        w["weeks"],
        json!([{"weekStart": "2026-01-05", "totalCalls": 7, "answeredCalls": 4, "pickupRate": 57.14,
                "avgDuration": 150.0, "medianDuration": 90.0, "p90Duration": 400.0,
                "shortCallsPercent": 25.0, "longCallsPercent": 25.0}])
    );
}

#[test]
fn counts_by_day_and_credit_usage_include_non_call_debits() {
    let c = json(&call_counts_by_day(&index(), "org", &three_days()));
    assert_eq!(
        c["callCountsByDay"],
        json!([{"day": "2026-01-05", "count": 3}, {"day": "2026-01-06", "count": 3}, {"day": "2026-01-07", "count": 1}])
    );
    let u = json(&usage_timeseries(&index(), &rental(), three_days().range, Zone::UTC));
    assert_eq!(
        u,
        json!({"dateRange": {"from": "2026-01-05", "to": "2026-01-07"},
               "dayWiseCredits": [{"date": "2026-01-05", "credits": 0.5}, {"date": "2026-01-06", "credits": 3.55},
                                  {"date": "2026-01-07", "credits": 0.1}],
               "totalCredits": 4.15})
    );
}

fn day(date: &str, include_agents: bool) -> DayScope {
    let p = DayParams { date: Some(date.into()), agent_id: None, include_agents: Some(include_agents.to_string()) };
    DayScope::parse(&p, Zone::UTC).expect("valid")
}

#[test]
fn concurrency_counts_the_minutes_each_dispatched_call_overlaps() {
    let c = json(&concurrency(&index(), &day("2026-01-05", true)));
    assert_eq!(
        c["dataPoints"],
        json!([{"minute": "09:00", "concurrentCalls": 2}, {"minute": "09:01", "concurrentCalls": 1},
               {"minute": "10:00", "concurrentCalls": 1}])
    );
    assert_eq!(
        (c["peakConcurrent"].clone(), c["avgConcurrent"].clone(), c["totalMinutes"].clone()),
        (json!(2), json!(1.33), json!(3))
    );
    assert_eq!(
        c["byAgent"],
        json!([{"agentId": A, "peakConcurrent": 2, "avgConcurrent": 1.5, "totalCalls": 2},
               {"agentId": B, "peakConcurrent": 1, "avgConcurrent": 1.0, "totalCalls": 1}])
    );
    assert!(json(&concurrency(&index(), &day("2026-01-05", false))).get("byAgent").is_none());
}

#[test]
fn start_distribution_and_the_daily_summary_with_live_calls() {
    let s = json(&call_start_distribution(&index(), &day("2026-01-05", false)));
    assert_eq!(
        s,
        json!({"date": "2026-01-05", "dataPoints": [{"minute": "09:00", "callCount": 2}, {"minute": "10:00", "callCount": 1}], "totalCalls": 3})
    );
    let d = json(&daily_call_summary(&index(), &day("2026-01-07", false)));
    assert_eq!(
        d,
        json!({"date": "2026-01-07", "totalCalls": 1, "answeredCalls": 0, "unansweredCalls": 0, "failedCalls": 0,
               "pickupRate": 0.0, "inProgressCalls": 1, "inQueueCalls": 1, "totalDurationMs": 0})
    );
}

#[test]
fn a_fresh_organization_answers_zeros_in_the_documented_shape() {
    let ix = Index::new();
    let s = json(&summary(&ix, "org", &three_days()));
    assert_eq!(s["totalCalls"], json!({"current": 0.0, "previous": 0.0, "percentChange": 0.0}));
    let d = json(&dashboard(&ix, "org", &three_days()));
    assert_eq!(d["callVolumeTimeseries"]["dataPoints"], json!([]));
    assert_eq!(d["hourlyPerformance"]["hours"].as_array().map(Vec::len), Some(24));
    assert_eq!(d["durationStats"]["medianDurationMs"], 0.0);
    let c = json(&concurrency(&ix, &day("2026-01-05", true)));
    assert_eq!(
        c,
        json!({"date": "2026-01-05", "dataPoints": [], "peakConcurrent": 0, "avgConcurrent": 0.0, "totalMinutes": 0, "byAgent": []})
    );
    assert_eq!(json(&attempt_cohort(&ix, "org", &three_days()))["avgAttemptsToPickup"], 0.0);
}

#[test]
fn the_counts_log_pages_newest_first_and_renders_rows() {
    let ix = index();
    let (rows, total) = log::page(&ix, &three_days(), 1, 2);
    let ids: Vec<&str> = rows.iter().map(|r| &*r.call_id).collect();
    let facts = org();
    assert_eq!((ids, total), (vec![facts[6].call_id.as_str(), facts[5].call_id.as_str()], 7));
    let cx = RowContext { org_id: "org", agent_name: "Ava", campaign_name: None, recording_url: None };
    let row = json(&log_row(&facts[5], &cx));
    assert_eq!(
        (row["callType"].clone(), row["source"].clone(), row["callDurationMs"].clone()),
        (json!("inbound"), json!("inbound"), json!(120_000))
    );
    assert_eq!(row["timestamp"], "2026-01-06T23:50:00.000Z");
    assert!(row.get("campaignId").is_none() && row.get("recordingUrl").is_none());
    let page = json(&log::CallCountsLog::new(vec![], 7, 1, 2));
    assert_eq!(page, json!({"calls": [], "totalCalls": 7, "totalPages": 4, "currentPage": 1, "limit": 2}));
    assert_eq!(log::check_call_id("65f1a2b3c4d5e6f708192a3b").unwrap_err().to_string(), "Invalid call ID format");
}

#[test]
fn a_recorded_call_can_be_updated_and_removed_in_place() {
    let mut ix = index();
    let before = json(&dashboard(&ix, "org", &three_days()));
    let mut live = org()[7].clone();
    live.status = CallStatus::Completed;
    live.connected_at = Some(live.created_at + 1000);
    live.ended_at = Some(live.created_at + 31_000);
    ix.record(&live);
    assert_eq!(json(&summary(&ix, "org", &three_days()))["totalCalls"]["current"], 8.0);
    ix.remove(&live.call_id);
    ix.record(&org()[7]);
    assert_eq!(json(&dashboard(&ix, "org", &three_days())), before);
    assert_eq!(ix.len(), 9);
}
