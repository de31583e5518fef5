//! The dashboard panels: `summary`, `call-volume-timeseries`,
//! `call-outcomes-timeseries`, `pickup-rate-by-number`,
//! `hourly-performance`, `duration-stats` and `dashboard`, which batches
//! the six. Each returns the operation's `data` object with the spec's keys
//! (camelCase); the handler wraps it in `{success: true, data}`.
//!
//! All six read one [`Tallies`] pass over the range's buckets, so the
//! dashboard touches each bucket once for the period and once for the
//! previous period. Rules A1–A8 of [`super`] apply.

use std::collections::BTreeMap;

use serde::Serialize;

use super::bucket::{distinct, Counters, Spread, Tally};
use super::index::Source;
use super::params::{Period, Range, Scope};
use super::{credits, date_str, mean, percent, round2, SLOT};

/// `AnalyticsTrendMetric`: a figure now and in the previous period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendMetric {
    /// This period.
    pub current: f64,
    /// The period of the same length just before.
    pub previous: f64,
    /// (current − previous) ÷ previous × 100, 2 decimals; 0 when both are
    /// 0 and 100 when only the previous is.
    pub percent_change: f64,
}

impl TrendMetric {
    /// The trend from `previous` to `current`.
    pub fn new(current: f64, previous: f64) -> Self {
        let percent_change = if previous == 0.0 {
            if current == 0.0 {
                0.0
            } else {
                100.0
            }
        } else {
            round2((current - previous) * 100.0 / previous.abs())
        };
        Self { current, previous, percent_change }
    }
}

/// What one pass over a range's buckets adds up to.
#[derive(Debug, Default)]
pub struct Tallies {
    /// All calls.
    pub totals: Counters,
    /// Durations of answered calls, ms.
    pub durations: Vec<u32>,
    /// Customers of answered calls (ids, with repeats).
    pub reached: Vec<u32>,
    /// Per local day.
    pub days: BTreeMap<i64, Counters>,
    /// Per local hour of day.
    pub hours: [Counters; 24],
    /// Per line (sorted by id): tally and last local day with a call.
    pub lines: Vec<(u32, Tally, i64)>,
}

impl Tallies {
    /// One pass over `scope`.
    pub fn collect(src: &dyn Source, scope: &Scope) -> Self {
        let mut t = Self::default();
        src.visit(&scope.filter, scope.range, &mut |_, slot, b| {
            let (day, hour) = (scope.zone.day_of(slot * SLOT), scope.zone.hour_of(slot * SLOT));
            t.totals.add(&b.counters);
            t.durations.extend_from_slice(&b.durations);
            t.reached.extend_from_slice(&b.reached);
            t.days.entry(day).or_default().add(&b.counters);
            t.hours[hour].add(&b.counters);
            for (line, tally) in &b.lines {
                match t.lines.binary_search_by_key(line, |e| e.0) {
                    Ok(i) => {
                        t.lines[i].1.add(*tally);
                        t.lines[i].2 = t.lines[i].2.max(day);
                    }
                    Err(i) => t.lines.insert(i, (*line, *tally, day)),
                }
            }
        });
        t
    }
}

/// The same scope over another range.
pub fn within(scope: &Scope, range: Range) -> Scope {
    Scope { range, ..scope.clone() }
}

/// `data` of `GET /analytics/summary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The organization.
    pub org_id: String,
    /// Ended calls.
    pub total_calls: TrendMetric,
    /// Answered ÷ total, %.
    pub pickup_rate: TrendMetric,
    /// Mean talk time of answered calls, ms.
    pub avg_duration_ms: TrendMetric,
    /// Median talk time of answered calls this period, ms.
    pub median_duration_ms: f64,
    /// Talk time of answered calls, ms.
    pub total_duration_ms: TrendMetric,
    /// Distinct customer numbers of answered calls.
    pub unique_users_reached: TrendMetric,
    /// `callCost` sum, credits.
    pub total_cost: TrendMetric,
    /// The range.
    pub period: Period,
    /// The range of the same length just before.
    pub previous_period: Period,
}

/// `GET /analytics/summary`: KPIs now against the previous period.
pub fn summary(src: &dyn Source, org_id: &str, scope: &Scope) -> Summary {
    let mut now = Tallies::collect(src, scope);
    let mut before = Tallies::collect(src, &within(scope, scope.range.previous()));
    summary_of(org_id, scope, &mut now, &mut before)
}

fn summary_of(org_id: &str, scope: &Scope, now: &mut Tallies, before: &mut Tallies) -> Summary {
    let (a, b) = (&now.totals, &before.totals);
    let trend = |f: fn(&Counters) -> f64| TrendMetric::new(f(a), f(b));
    let (ra, rb) = (distinct(&mut now.reached) as f64, distinct(&mut before.reached) as f64);
    Summary {
        org_id: org_id.to_string(),
        total_calls: trend(|c| c.total as f64),
        pickup_rate: trend(|c| percent(c.answered, c.total)),
        avg_duration_ms: trend(|c| mean(c.duration_ms, c.answered)),
        median_duration_ms: Spread::of(&mut now.durations).median,
        total_duration_ms: trend(|c| c.duration_ms as f64),
        unique_users_reached: TrendMetric::new(ra, rb),
        total_cost: trend(|c| credits(c.cost_micros)),
        period: scope.range.period(scope.zone),
        previous_period: scope.range.previous().period(scope.zone),
    }
}

/// One day of `call-volume-timeseries`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumePoint {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Ended calls.
    pub total_calls: u64,
    /// `completed`.
    pub answered_calls: u64,
    /// `no_answer`.
    pub no_answer_calls: u64,
    /// `failed`.
    pub failed_calls: u64,
    /// `cancelled`.
    pub cancelled_calls: u64,
    /// Talk time of answered calls, ms.
    pub total_duration_ms: u64,
}

/// `data` of `GET /analytics/call-volume-timeseries`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallVolume {
    /// The organization.
    pub org_id: String,
    /// Days with calls, oldest first.
    pub data_points: Vec<VolumePoint>,
    /// The range.
    pub period: Period,
}

fn volume_of(org_id: &str, scope: &Scope, t: &Tallies) -> CallVolume {
    let data_points = t
        .days
        .iter()
        .map(|(day, c)| VolumePoint {
            date: date_str(*day),
            total_calls: c.total,
            answered_calls: c.answered,
            no_answer_calls: c.no_answer,
            failed_calls: c.failed,
            cancelled_calls: c.cancelled,
            total_duration_ms: c.duration_ms,
        })
        .collect();
    CallVolume { org_id: org_id.into(), data_points, period: scope.range.period(scope.zone) }
}

/// `GET /analytics/call-volume-timeseries`.
pub fn call_volume(src: &dyn Source, org_id: &str, scope: &Scope) -> CallVolume {
    volume_of(org_id, scope, &Tallies::collect(src, scope))
}

/// Outcome counts (`totals` and each day of `call-outcomes-timeseries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeCounts {
    /// `completed`.
    pub answered: u64,
    /// `no_answer`.
    pub no_answer: u64,
    /// `failed`.
    pub failed: u64,
    /// `cancelled`.
    pub cancelled: u64,
    /// The four together.
    pub total: u64,
}

impl From<&Counters> for OutcomeCounts {
    fn from(c: &Counters) -> Self {
        Self { answered: c.answered, no_answer: c.no_answer, failed: c.failed, cancelled: c.cancelled, total: c.total }
    }
}

/// One day of `call-outcomes-timeseries`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomePoint {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// That day's counts.
    #[serde(flatten)]
    pub counts: OutcomeCounts,
}

/// `data` of `GET /analytics/call-outcomes-timeseries`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallOutcomes {
    /// The organization.
    pub org_id: String,
    /// Days with calls, oldest first.
    pub data_points: Vec<OutcomePoint>,
    /// The whole range.
    pub totals: OutcomeCounts,
    /// The range.
    pub period: Period,
}

fn outcomes_of(org_id: &str, scope: &Scope, t: &Tallies) -> CallOutcomes {
    let data_points = t.days.iter().map(|(d, c)| OutcomePoint { date: date_str(*d), counts: c.into() }).collect();
    CallOutcomes {
        org_id: org_id.into(),
        data_points,
        totals: (&t.totals).into(),
        period: scope.range.period(scope.zone),
    }
}

/// `GET /analytics/call-outcomes-timeseries`.
pub fn call_outcomes(src: &dyn Source, org_id: &str, scope: &Scope) -> CallOutcomes {
    outcomes_of(org_id, scope, &Tallies::collect(src, scope))
}

/// One line of `pickup-rate-by-number`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberPickup {
    /// The organization's number (A8).
    pub phone_number: String,
    /// Ended calls on it.
    pub total_calls: u64,
    /// Answered ones.
    pub answered_calls: u64,
    /// %.
    pub pickup_rate: f64,
    /// Last day with a call on it.
    pub last_active_date: String,
}

/// `data` of `GET /analytics/pickup-rate-by-number`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupByNumber {
    /// The organization.
    pub org_id: String,
    /// Most calls first, then by number.
    pub numbers: Vec<NumberPickup>,
    /// The range.
    pub period: Period,
}

fn numbers_of(src: &dyn Source, org_id: &str, scope: &Scope, t: &Tallies) -> PickupByNumber {
    let mut numbers: Vec<NumberPickup> = t
        .lines
        .iter()
        .map(|(line, tally, last)| NumberPickup {
            phone_number: src.name(*line).to_string(),
            total_calls: tally.total,
            answered_calls: tally.answered,
            pickup_rate: percent(tally.answered, tally.total),
            last_active_date: date_str(*last),
        })
        .collect();
    numbers.sort_by(|a, b| b.total_calls.cmp(&a.total_calls).then_with(|| a.phone_number.cmp(&b.phone_number)));
    PickupByNumber { org_id: org_id.into(), numbers, period: scope.range.period(scope.zone) }
}

/// `GET /analytics/pickup-rate-by-number`.
pub fn pickup_by_number(src: &dyn Source, org_id: &str, scope: &Scope) -> PickupByNumber {
    numbers_of(src, org_id, scope, &Tallies::collect(src, scope))
}

/// One hour of `hourly-performance`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HourRow {
    /// 0–23.
    pub hour: u8,
    /// Ended calls created in that hour of any day of the range.
    pub total_calls: u64,
    /// Answered ones.
    pub answered_calls: u64,
    /// %.
    pub pickup_rate: f64,
    /// Talk time of answered calls, ms.
    pub total_duration_ms: u64,
    /// Its mean per answered call, ms.
    pub avg_duration_ms: f64,
}

/// `data` of `GET /analytics/hourly-performance`: always 24 hours (A7).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HourlyPerformance {
    /// The organization.
    pub org_id: String,
    /// Hours 0–23 in order.
    pub hours: Vec<HourRow>,
    /// The range.
    pub period: Period,
}

fn hourly_of(org_id: &str, scope: &Scope, t: &Tallies) -> HourlyPerformance {
    let hours = (0u8..24)
        .zip(t.hours.iter())
        .map(|(hour, c)| HourRow {
            hour,
            total_calls: c.total,
            answered_calls: c.answered,
            pickup_rate: percent(c.answered, c.total),
            total_duration_ms: c.duration_ms,
            avg_duration_ms: mean(c.duration_ms, c.answered),
        })
        .collect();
    HourlyPerformance { org_id: org_id.into(), hours, period: scope.range.period(scope.zone) }
}

/// `GET /analytics/hourly-performance`.
pub fn hourly_performance(src: &dyn Source, org_id: &str, scope: &Scope) -> HourlyPerformance {
    hourly_of(org_id, scope, &Tallies::collect(src, scope))
}

/// `data` of `GET /analytics/duration-stats`, over answered calls (A3).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DurationStats {
    /// The organization.
    pub org_id: String,
    /// Mean, ms.
    pub avg_duration_ms: f64,
    /// Median, ms.
    pub median_duration_ms: f64,
    /// 90th percentile, ms.
    pub p90_duration_ms: f64,
    /// 95th percentile, ms.
    pub p95_duration_ms: f64,
    /// Share under 30 s, %.
    pub short_calls_percent: f64,
    /// Share of 5 min or more, %.
    pub long_calls_percent: f64,
    /// Answered calls (the population of these statistics).
    pub total_calls: u64,
    /// Their talk time, ms.
    pub total_duration_ms: u64,
    /// The range.
    pub period: Period,
}

fn durations_of(org_id: &str, scope: &Scope, t: &mut Tallies) -> DurationStats {
    let s = Spread::of(&mut t.durations);
    let c = &t.totals;
    DurationStats {
        org_id: org_id.into(),
        avg_duration_ms: s.avg,
        median_duration_ms: s.median,
        p90_duration_ms: s.p90,
        p95_duration_ms: s.p95,
        short_calls_percent: percent(c.short, c.answered),
        long_calls_percent: percent(c.long, c.answered),
        total_calls: c.answered,
        total_duration_ms: c.duration_ms,
        period: scope.range.period(scope.zone),
    }
}

/// `GET /analytics/duration-stats`.
pub fn duration_stats(src: &dyn Source, org_id: &str, scope: &Scope) -> DurationStats {
    durations_of(org_id, scope, &mut Tallies::collect(src, scope))
}

/// `data` of `GET /analytics/dashboard`: the six panels, each exactly
/// what its own operation answers for the same query.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    /// `GET /analytics/summary`.
    pub summary: Summary,
    /// `GET /analytics/call-volume-timeseries`.
    pub call_volume_timeseries: CallVolume,
    /// `GET /analytics/call-outcomes-timeseries`.
    pub call_outcomes_timeseries: CallOutcomes,
    /// `GET /analytics/pickup-rate-by-number`.
    pub pickup_rate_by_number: PickupByNumber,
    /// `GET /analytics/hourly-performance`.
    pub hourly_performance: HourlyPerformance,
    /// `GET /analytics/duration-stats`.
    pub duration_stats: DurationStats,
}

/// `GET /analytics/dashboard`: one pass for the period, one for the
/// previous period.
pub fn dashboard(src: &dyn Source, org_id: &str, scope: &Scope) -> Dashboard {
    let mut now = Tallies::collect(src, scope);
    let mut before = Tallies::collect(src, &within(scope, scope.range.previous()));
    Dashboard {
        call_volume_timeseries: volume_of(org_id, scope, &now),
        call_outcomes_timeseries: outcomes_of(org_id, scope, &now),
        pickup_rate_by_number: numbers_of(src, org_id, scope, &now),
        hourly_performance: hourly_of(org_id, scope, &now),
        duration_stats: durations_of(org_id, scope, &mut now),
        summary: summary_of(org_id, scope, &mut now, &mut before),
    }
}
