//! Five dashboard panels: `call-volume-timeseries`,
//! `call-outcomes-timeseries`, `pickup-rate-by-number`, `hourly-performance`
//! and `duration-stats`. Each `*_of` renders a panel from a [`Tallies`]
//! pass, so [`super::figures::dashboard`] shares one pass among them; each
//! public function is the operation on its own. Rules A1–A8 of [`super`].

use serde::Serialize;

use super::bucket::{Counters, Spread};
use super::figures::Tallies;
use super::index::Source;
use super::params::{Period, Scope};
use super::{date_str, mean, percent};

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

pub(super) fn volume_of(org_id: &str, scope: &Scope, t: &Tallies) -> CallVolume {
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

pub(super) fn outcomes_of(org_id: &str, scope: &Scope, t: &Tallies) -> CallOutcomes {
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

pub(super) fn numbers_of(src: &dyn Source, org_id: &str, scope: &Scope, t: &Tallies) -> PickupByNumber {
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

pub(super) fn hourly_of(org_id: &str, scope: &Scope, t: &Tallies) -> HourlyPerformance {
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

pub(super) fn durations_of(org_id: &str, scope: &Scope, t: &mut Tallies) -> DurationStats {
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
