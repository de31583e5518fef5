//! The Analytics tag (`/analytics/*`, 18 operations): dashboards computed
//! from the organization's own call records, never canned. (Post-call
//! analytics of one call, R215–R220, live in `crate::calls::analytics`.)
//!
//! # Shape
//! - [`facts`]: [`CallFacts`], the few fields of a call the figures need,
//!   copied from the call engine's record whenever a call changes, so these
//!   rules never depend on the engine's types.
//! - [`params`]: the query parameters of every operation, validated into a
//!   [`Scope`] (filter, half-open UTC range, zone) or a [`DayScope`].
//! - [`bucket`]: [`Bucket`], what a set of ended calls adds up to: counters
//!   plus the exact values that percentiles and distinct counts need.
//! - [`index`]: [`Index`], the per-organization incremental index: ended
//!   calls in 15-minute buckets per (agent, campaign, call type) cell, so a
//!   request merges buckets instead of scanning every call.
//! - [`scan`]: [`Scan`], the naive reference the property tests compare the
//!   index with.
//! - [`figures`], [`panels`], [`groups`], [`daily`], [`log`]: one pure
//!   function per operation, returning the `data` object as a serde struct
//!   with the spec's keys.
//!
//! # Rules decided here (the reference is silent; ids for the design note)
//! - **A1** Historical figures count **ended** calls only (`completed`,
//!   `no_answer`, `failed`, `cancelled`), as the platform's ClickHouse store
//!   receives a row when a call ends; live calls appear only where the spec
//!   says real-time data is merged (`daily-call-summary`).
//! - **A2** Outcomes partition ended calls by status: answered = `completed`,
//!   noAnswer = `no_answer`, failed = `failed` (busy included), cancelled =
//!   `cancelled`. `pickupRate` = answered ÷ total × 100 (a percentage, like
//!   the `*Percent` fields), 0 without calls.
//! - **A3** Duration figures (sums, averages, percentiles, short/long) are
//!   over answered calls; a call's duration is connect → end in ms. Short =
//!   under 30 s and long = 5 min or more, in the whole seconds of `GET
//!   /conversation`'s `duration` (its `durationFilter` `0-30` and `5+`).
//! - **A4** Median is the mean of the two middle values for an even count;
//!   p90/p95 are nearest-rank. Rates, averages and money are rounded to 2
//!   decimals (credits to 6); counts are integers.
//! - **A5** Calls are placed in time by `createdAt`, like `GET
//!   /conversation`'s `dateFrom`/`dateTo` (both inclusive). Without
//!   `dateTo` the range ends now; without `dateFrom` it starts 30 days
//!   before its end. A date without a time means that whole day.
//! - **A6** Days, weeks (starting Monday) and hours are UTC: the spec has no
//!   timezone parameter. The index keeps 15-minute buckets so any real UTC
//!   offset (all are multiples of 15 minutes) can shift them exactly; see
//!   [`Zone`].
//! - **A7** Series are sparse (a day, week, number, agent, attempt or
//!   minute without calls has no entry), except `hourly-performance`, which
//!   always lists hours 0–23. A fresh organization gets zeros and empty
//!   lists in the documented shape.
//! - **A8** A phone number's line is the organization's side of the call
//!   (`from` of outbound, `to` of inbound); the customer is the other side.
//!   Web calls have neither.

pub mod bucket;
pub mod daily;
pub mod facts;
pub mod figures;
pub mod groups;
pub mod index;
pub mod log;
pub mod panels;
pub mod params;
#[cfg(test)]
mod props;
pub mod scan;
#[cfg(test)]
mod tests;

pub use bucket::{Bucket, Counters, Tally};
pub use facts::{CallFacts, CallKind, Outcome};
pub use index::{AnalyticsRow, Index, Source, ROW_BYTES};
pub use params::{DayScope, Filter, Range, Scope, Zone};
pub use scan::Scan;

use super::Millis;

/// One minute, in ms.
pub const MINUTE: Millis = 60_000;
/// One hour, in ms.
pub const HOUR: Millis = 3_600_000;
/// One day, in ms.
pub const DAY: Millis = 86_400_000;
/// The index's bucket width: 15 minutes, the finest step of real UTC offsets.
pub const SLOT: Millis = 900_000;
/// Julian day number of 1970-01-01.
const UNIX_JULIAN_DAY: i64 = 2_440_588;

/// The bucket holding instant `t` (floor division, so negative times work).
pub fn slot_of(t: Millis) -> i64 {
    t.div_euclid(SLOT)
}

/// `YYYY-MM-DD` of day number `day` (days since 1970-01-01).
pub fn date_str(day: i64) -> String {
    let date = i32::try_from(day + UNIX_JULIAN_DAY).ok().and_then(|j| time::Date::from_julian_day(j).ok());
    match date {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        None => "0000-01-01".into(),
    }
}

/// The day number of a `YYYY-MM-DD` date, or `None`.
pub fn parse_date(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &fmt).ok()?;
    Some(i64::from(d.to_julian_day()) - UNIX_JULIAN_DAY)
}

/// Day number of the Monday that starts `day`'s week (1970-01-01 was a
/// Thursday).
pub fn week_start(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

/// `x` rounded to 2 decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `part ÷ whole × 100`, rounded to 2 decimals; 0 when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round2(part as f64 * 100.0 / whole as f64)
    }
}

/// `sum ÷ n` rounded to 2 decimals; 0 when `n` is 0.
pub fn mean(sum: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        round2(sum as f64 / n as f64)
    }
}

/// Credits from millionths of a credit (money is summed as integers, so the
/// order calls are added in never changes a total).
pub fn credits(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_weeks_start_on_monday() {
        assert_eq!(date_str(0), "1970-01-01");
        assert_eq!(parse_date("2026-01-01"), Some(20_454));
        assert_eq!(date_str(20_454), "2026-01-01");
        // 2026-01-01 is a Thursday; its week starts Monday 2025-12-29.
        assert_eq!(date_str(week_start(20_454)), "2025-12-29");
        assert_eq!(week_start(20_452), 20_451);
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn rates_are_rounded_percentages_and_zero_without_calls() {
        assert_eq!(percent(1, 3), 33.33);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(mean(10, 4), 2.5);
        assert_eq!(mean(5, 0), 0.0);
        assert_eq!(slot_of(-1), -1);
        assert_eq!(credits(420_000), 0.42);
    }
}
