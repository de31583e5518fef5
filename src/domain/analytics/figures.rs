//! `summary` and `dashboard`, which batches `summary` with the five panels
//! of [`super::panels`]. Each returns the operation's `data` object with
//! the spec's keys (camelCase); the handler wraps it in `{success: true,
//! data}`.
//!
//! All six read one [`Tallies`] pass over the range's buckets, so the
//! dashboard touches each bucket once for the period and once for the
//! previous period. Rules A1–A8 of [`super`] apply.

use std::collections::BTreeMap;

use serde::Serialize;

use super::bucket::{distinct, Counters, Spread, Tally};
use super::index::Source;
use super::panels::{
    durations_of, hourly_of, numbers_of, outcomes_of, volume_of, CallOutcomes, CallVolume, DurationStats,
    HourlyPerformance, PickupByNumber,
};
use super::params::{Period, Range, Scope};
use super::{credits, mean, percent, round2, SLOT};

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
