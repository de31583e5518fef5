//! The grouped figures: `phone-number-trends` (per line per day),
//! `weekly-trends` (per Monday-started week), `agent-performance` (per
//! agent, ranked), `attempt-cohort` (per retry attempt), `call-counts-by-day`
//! and `usage/timeseries` (credits per day). Rules A1–A8 of [`super`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::bucket::{distinct, Counters, Spread, Tally};
use super::index::Source;
use super::params::{Filter, Period, Range, Rank, RankBy, Scope, Zone};
use crate::domain::Millis;

use super::{credits, date_str, mean, percent, round2, week_start, SLOT};

/// One day of one line in `phone-number-trends`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Ended calls.
    pub total_calls: u64,
    /// Answered ones.
    pub answered_calls: u64,
    /// %.
    pub pickup_rate: f64,
}

/// One line's series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberTrend {
    /// The organization's number (A8).
    pub phone_number: String,
    /// Days with calls on it, oldest first.
    pub data_points: Vec<TrendPoint>,
}

/// `data` of `GET /analytics/phone-number-trends`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumberTrends {
    /// The organization.
    pub org_id: String,
    /// Lines with the most calls first, then by number.
    pub trends: Vec<NumberTrend>,
    /// The range.
    pub period: Period,
}

/// `GET /analytics/phone-number-trends`.
pub fn phone_number_trends(src: &dyn Source, org_id: &str, scope: &Scope) -> PhoneNumberTrends {
    let mut per: BTreeMap<String, BTreeMap<i64, Tally>> = BTreeMap::new();
    src.visit(&scope.filter, scope.range, &mut |_, slot, b| {
        let day = scope.zone.day_of(slot * SLOT);
        for (line, t) in &b.lines {
            per.entry(src.name(*line).to_string()).or_default().entry(day).or_default().add(*t);
        }
    });
    let mut trends: Vec<(u64, NumberTrend)> = per
        .into_iter()
        .map(|(phone_number, days)| {
            let total = days.values().map(|t| t.total).sum();
            let data_points = days
                .into_iter()
                .map(|(d, t)| TrendPoint {
                    date: date_str(d),
                    total_calls: t.total,
                    answered_calls: t.answered,
                    pickup_rate: percent(t.answered, t.total),
                })
                .collect();
            (total, NumberTrend { phone_number, data_points })
        })
        .collect();
    trends.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.phone_number.cmp(&b.1.phone_number)));
    let trends = trends.into_iter().map(|(_, t)| t).collect();
    PhoneNumberTrends { org_id: org_id.into(), trends, period: scope.range.period(scope.zone) }
}

/// One week of `weekly-trends`; durations in **seconds** (spec).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeekRow {
    /// The Monday that starts the week.
    pub week_start: String,
    /// Ended calls.
    pub total_calls: u64,
    /// Answered ones.
    pub answered_calls: u64,
    /// %.
    pub pickup_rate: f64,
    /// Mean talk time of answered calls, s.
    pub avg_duration: f64,
    /// Median, s.
    pub median_duration: f64,
    /// 90th percentile, s.
    pub p90_duration: f64,
    /// Share of answered calls under 30 s, %.
    pub short_calls_percent: f64,
    /// Share of 5 min or more, %.
    pub long_calls_percent: f64,
}

/// `data` of `GET /analytics/weekly-trends`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeeklyTrends {
    /// The organization.
    pub org_id: String,
    /// Weeks with calls, oldest first.
    pub weeks: Vec<WeekRow>,
    /// The range.
    pub period: Period,
}

fn seconds(ms: f64) -> f64 {
    round2(ms / 1000.0)
}

/// `GET /analytics/weekly-trends`.
pub fn weekly_trends(src: &dyn Source, org_id: &str, scope: &Scope) -> WeeklyTrends {
    let mut per: BTreeMap<i64, (Counters, Vec<u32>)> = BTreeMap::new();
    src.visit(&scope.filter, scope.range, &mut |_, slot, b| {
        let e = per.entry(week_start(scope.zone.day_of(slot * SLOT))).or_default();
        e.0.add(&b.counters);
        e.1.extend_from_slice(&b.durations);
    });
    let weeks = per
        .into_iter()
        .map(|(week, (c, mut durations))| {
            let s = Spread::of(&mut durations);
            WeekRow {
                week_start: date_str(week),
                total_calls: c.total,
                answered_calls: c.answered,
                pickup_rate: percent(c.answered, c.total),
                avg_duration: seconds(s.avg),
                median_duration: seconds(s.median),
                p90_duration: seconds(s.p90),
                short_calls_percent: percent(c.short, c.answered),
                long_calls_percent: percent(c.long, c.answered),
            }
        })
        .collect();
    WeeklyTrends { org_id: org_id.into(), weeks, period: scope.range.period(scope.zone) }
}

/// One agent of `agent-performance`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRow {
    /// Agent id.
    pub agent_id: String,
    /// Ended calls.
    pub total_calls: u64,
    /// Answered ones.
    pub answered_calls: u64,
    /// %.
    pub pickup_rate: f64,
    /// Mean talk time of answered calls, **seconds** (spec).
    pub avg_duration: f64,
    /// `callCost` sum, credits.
    pub total_cost: f64,
}

/// `data` of `GET /analytics/agent-performance`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPerformance {
    /// The organization.
    pub org_id: String,
    /// Agents with calls, ranked; ties by agent id.
    pub agents: Vec<AgentRow>,
    /// The range.
    pub period: Period,
}

/// `GET /analytics/agent-performance`, sorted by `rank` (default
/// `totalCalls` descending) and cut to its `limit`.
pub fn agent_performance(src: &dyn Source, org_id: &str, scope: &Scope, rank: Rank) -> AgentPerformance {
    let mut per: BTreeMap<String, Counters> = BTreeMap::new();
    src.visit(&scope.filter, scope.range, &mut |agent, _, b| {
        per.entry(agent.to_string()).or_default().add(&b.counters)
    });
    let mut agents: Vec<AgentRow> = per
        .into_iter()
        .map(|(agent_id, c)| AgentRow {
            agent_id,
            total_calls: c.total,
            answered_calls: c.answered,
            pickup_rate: percent(c.answered, c.total),
            avg_duration: seconds(mean(c.duration_ms, c.answered)),
            total_cost: credits(c.cost_micros),
        })
        .collect();
    let key = |a: &AgentRow| match rank.by {
        RankBy::TotalCalls => a.total_calls as f64,
        RankBy::AnsweredCalls => a.answered_calls as f64,
        RankBy::PickupRate => a.pickup_rate,
        RankBy::AvgDuration => a.avg_duration,
        RankBy::TotalCost => a.total_cost,
    };
    agents.sort_by(|a, b| {
        let ord = key(a).total_cmp(&key(b));
        if rank.ascending { ord } else { ord.reverse() }.then_with(|| a.agent_id.cmp(&b.agent_id))
    });
    agents.truncate(rank.limit.unwrap_or(usize::MAX));
    AgentPerformance { org_id: org_id.into(), agents, period: scope.range.period(scope.zone) }
}

/// One attempt of `attempt-cohort`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CohortRow {
    /// 1 for first attempts (`retryAttemptNumber` + 1).
    pub attempt_number: u64,
    /// Ended calls that were this attempt.
    pub total_calls: u64,
    /// Answered ones.
    pub answered_calls: u64,
    /// %.
    pub pickup_rate: f64,
    /// Answered calls of this attempt or an earlier one.
    pub cumulative_answered: u64,
    /// `cumulativeAnswered` ÷ retry families in the range, %.
    pub cumulative_rate: f64,
    /// This attempt's `cumulativeRate` minus the previous one's.
    pub marginal_gain: f64,
}

/// `data` of `GET /analytics/attempt-cohort`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptCohort {
    /// The organization.
    pub org_id: String,
    /// Attempts with calls, in order.
    pub cohorts: Vec<CohortRow>,
    /// Distinct customer numbers called.
    pub total_unique_numbers: u64,
    /// Highest attempt number seen.
    pub max_attempts_seen: u64,
    /// Mean attempt number of answered calls.
    pub avg_attempts_to_pickup: f64,
    /// The range.
    pub period: Period,
}

/// `GET /analytics/attempt-cohort`. The cohort is the retry family: the
/// first attempt and its retries (R121), which all dial one number.
pub fn attempt_cohort(src: &dyn Source, org_id: &str, scope: &Scope) -> AttemptCohort {
    let (mut per, mut families, mut dialled) = (BTreeMap::<u64, Tally>::new(), Vec::new(), Vec::new());
    src.visit(&scope.filter, scope.range, &mut |_, _, b| {
        for (attempt, t) in &b.attempts {
            per.entry(u64::from(*attempt) + 1).or_default().add(*t);
        }
        families.extend_from_slice(&b.families);
        dialled.extend_from_slice(&b.dialled);
    });
    let families = distinct(&mut families);
    let rate = |answered: u64| if families == 0 { 0.0 } else { answered as f64 * 100.0 / families as f64 };
    let (mut cumulative, mut weighted) = (0, 0);
    let cohorts = per
        .iter()
        .map(|(n, t)| {
            let before = rate(cumulative);
            cumulative += t.answered;
            weighted += n * t.answered;
            CohortRow {
                attempt_number: *n,
                total_calls: t.total,
                answered_calls: t.answered,
                pickup_rate: percent(t.answered, t.total),
                cumulative_answered: cumulative,
                cumulative_rate: round2(rate(cumulative)),
                marginal_gain: round2(rate(cumulative) - before),
            }
        })
        .collect();
    AttemptCohort {
        org_id: org_id.into(),
        cohorts,
        total_unique_numbers: distinct(&mut dialled),
        max_attempts_seen: per.keys().next_back().copied().unwrap_or(0),
        avg_attempts_to_pickup: mean(weighted, cumulative),
        period: scope.range.period(scope.zone),
    }
}

/// One day of `call-counts-by-day`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Ended calls created that day.
    pub count: u64,
}

/// `data` of `GET /analytics/call-counts-by-day` (the spec gives it no
/// `period`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallCountsByDay {
    /// The organization.
    pub org_id: String,
    /// Days with calls, oldest first.
    pub call_counts_by_day: Vec<DayCount>,
}

/// `GET /analytics/call-counts-by-day`.
pub fn call_counts_by_day(src: &dyn Source, org_id: &str, scope: &Scope) -> CallCountsByDay {
    let mut per: BTreeMap<i64, u64> = BTreeMap::new();
    src.visit(&scope.filter, scope.range, &mut |_, slot, b| {
        *per.entry(scope.zone.day_of(slot * SLOT)).or_default() += b.counters.total;
    });
    let call_counts_by_day = per.into_iter().map(|(d, count)| DayCount { day: date_str(d), count }).collect();
    CallCountsByDay { org_id: org_id.into(), call_counts_by_day }
}

/// One day of `usage/timeseries`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayCredits {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Credits used that day.
    pub credits: f64,
}

/// `data` of `GET /analytics/usage/timeseries`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageTimeseries {
    /// The range, as dates.
    pub date_range: Period,
    /// Days with usage, oldest first.
    pub day_wise_credits: Vec<DayCredits>,
    /// Their sum.
    pub total_credits: f64,
}

/// `GET /analytics/usage/timeseries`: credits per day, from the cost of
/// every ended call created that day plus `other`, the organization's
/// other spend as `(epoch ms, micro-credits)` (number rental and renewal,
/// prompt scoring: the ledger's non-call usage rows; those outside
/// `range` are ignored). The operation takes no agent or campaign filter.
pub fn usage_timeseries(src: &dyn Source, other: &[(Millis, i64)], range: Range, zone: Zone) -> UsageTimeseries {
    let mut per: BTreeMap<i64, i64> = BTreeMap::new();
    src.visit(&Filter::default(), range, &mut |_, slot, b| {
        *per.entry(zone.day_of(slot * SLOT)).or_default() += b.counters.cost_micros;
    });
    for (at, micros) in other.iter().filter(|(at, _)| range.contains(*at)) {
        *per.entry(zone.day_of(*at)).or_default() += micros;
    }
    let total: i64 = per.values().sum();
    let day_wise_credits = per
        .into_iter()
        .filter(|(_, m)| *m != 0)
        .map(|(d, m)| DayCredits { date: date_str(d), credits: credits(m) })
        .collect();
    UsageTimeseries { date_range: range.period(zone), day_wise_credits, total_credits: credits(total) }
}
