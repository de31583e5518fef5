//! Billing cycles and the rental proration (OAS GET /user/subscription
//! `renewalDate`; GET /product/proration-amount).
//!
//! An organization's cycles are anchored at its billing anchor (when the
//! mock first saw it): each cycle starts on the anchor's day of the month
//! and time of day, clamped to the month's last day (an anchor on the 31st
//! renews on 28 February). `renewalDate` is the end of the current cycle.
//!
//! Proration follows the spec's example exactly (`daysRemaining 16`,
//! `daysInMonth 30`, `proratedValue 0.53`, `prorationAmount 5.3` for a
//! monthly rate of 10): `proratedValue` is `daysRemaining / daysInMonth`
//! rounded to two decimals, and the charge is the rate times that
//! rounded value, in whole cents. `daysInMonth` is the current cycle's
//! length in days; `daysRemaining` counts today, so it is 1 on the last
//! day and `daysInMonth` on the first.

use time::OffsetDateTime;

use super::ledger::Credits;
use super::Millis;

const DAY_MS: Millis = 86_400_000;

/// One billing cycle, `[start, end)` in epoch ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    /// First instant.
    pub start: Millis,
    /// First instant of the next cycle: the renewal date.
    pub end: Millis,
}

fn to_dt(ms: Millis) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn to_ms(dt: OffsetDateTime) -> Millis {
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).unwrap_or(Millis::MAX)
}

/// `anchor` moved `n` calendar months on (n ≥ 0), the day clamped to the
/// target month's length.
pub fn add_months(anchor: Millis, n: u32) -> Millis {
    let dt = to_dt(anchor);
    let months = i64::from(dt.year()) * 12 + i64::from(u8::from(dt.month())) - 1 + i64::from(n);
    let (year, month0) = (months.div_euclid(12), months.rem_euclid(12));
    let (Ok(year), Ok(month)) = (i32::try_from(year), time::Month::try_from(u8::try_from(month0 + 1).unwrap_or(1)))
    else {
        return anchor;
    };
    let day = dt.day().min(month.length(year));
    match time::Date::from_calendar_date(year, month, day) {
        Ok(date) => to_ms(dt.replace_date(date)),
        Err(_) => anchor,
    }
}

fn cycle_index(anchor: Millis, now: Millis) -> u32 {
    let (a, t) = (to_dt(anchor), to_dt(now.max(anchor)));
    let rough = (i64::from(t.year()) - i64::from(a.year())) * 12 + i64::from(u8::from(t.month()))
        - i64::from(u8::from(a.month()));
    let mut n = u32::try_from(rough.max(1) - 1).unwrap_or(0);
    while add_months(anchor, n + 1) <= now {
        n += 1;
    }
    n
}

/// The cycle containing `now` for `anchor`. Before the anchor, the first
/// cycle.
pub fn cycle_at(anchor: Millis, now: Millis) -> Cycle {
    let n = cycle_index(anchor, now);
    Cycle { start: add_months(anchor, n), end: add_months(anchor, n + 1) }
}

/// Most renewals [`renewals_between`] returns at once (100 years).
pub const MAX_RENEWALS: usize = 1200;

/// Cycle starts (renewals) in `(after, now]`, oldest first: the monthly
/// charges a rented number owes since it was last settled at `after`.
/// The anchor itself is not a renewal. At most [`MAX_RENEWALS`].
pub fn renewals_between(anchor: Millis, after: Millis, now: Millis) -> Vec<Millis> {
    let mut out = Vec::new();
    let mut m = cycle_index(anchor, after) + 1;
    while out.len() < MAX_RENEWALS {
        let at = add_months(anchor, m);
        if at > now {
            break;
        }
        out.push(at);
        m += 1;
    }
    out
}

/// `data` of `GET /product/proration-amount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proration {
    /// Charged today (`immediateCharge`, also `prorationAmount`).
    pub immediate_charge: Credits,
    /// The monthly rate (`perNumberRecurringAmount`, also `monthlyRate`).
    pub monthly_rate: Credits,
    /// Days left in the cycle, today included.
    pub days_remaining: u32,
    /// Days in the cycle.
    pub days_in_month: u32,
    /// `days_remaining / days_in_month`, in hundredths (53 = 0.53).
    pub prorated_hundredths: u32,
}

impl Proration {
    /// The wire object: `immediateCharge, perNumberRecurringAmount,
    /// monthlyRate, prorationAmount, daysRemaining, daysInMonth,
    /// proratedValue`.
    pub fn wire(&self) -> serde_json::Value {
        let charge = self.immediate_charge.to_f64();
        let rate = self.monthly_rate.to_f64();
        serde_json::json!({
            "immediateCharge": charge, "perNumberRecurringAmount": rate, "monthlyRate": rate,
            "prorationAmount": charge, "daysRemaining": self.days_remaining, "daysInMonth": self.days_in_month,
            "proratedValue": f64::from(self.prorated_hundredths) / 100.0,
        })
    }
}

/// The prorated charge at `now` for one number at `monthly_rate` in
/// `cycle` (see the module doc).
pub fn prorate(monthly_rate: Credits, cycle: Cycle, now: Millis) -> Proration {
    let days_in_month = u32::try_from(((cycle.end - cycle.start) + DAY_MS / 2) / DAY_MS).unwrap_or(30).max(1);
    let left = (cycle.end - now.clamp(cycle.start, cycle.end)).max(0);
    let days_remaining = u32::try_from((left + DAY_MS - 1) / DAY_MS).unwrap_or(0).clamp(1, days_in_month);
    let prorated_hundredths = (days_remaining * 200 + days_in_month) / (2 * days_in_month);
    let charge = Credits::from_micros(monthly_rate.micros() * i64::from(prorated_hundredths) / 100).round_cents();
    Proration { immediate_charge: charge, monthly_rate, days_remaining, days_in_month, prorated_hundredths }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::parse_iso;
    use proptest::prelude::*;

    fn days(a: Millis, b: Millis) -> i64 {
        (to_dt(b) - to_dt(a)).whole_days()
    }

    fn t(s: &str) -> Millis {
        parse_iso(s).expect("iso")
    }

    #[test]
    fn months_clamp_to_the_last_day() {
        let anchor = t("2026-01-31T10:00:00Z");
        assert_eq!(add_months(anchor, 1), t("2026-02-28T10:00:00Z"));
        assert_eq!(add_months(anchor, 2), t("2026-03-31T10:00:00Z"));
        assert_eq!(add_months(anchor, 12), t("2027-01-31T10:00:00Z"));
    }

    #[test]
    fn the_cycle_contains_now_and_renews_monthly() {
        let anchor = t("2026-01-01T00:00:00Z");
        let c = cycle_at(anchor, t("2026-05-17T12:00:00Z"));
        assert_eq!((c.start, c.end), (t("2026-05-01T00:00:00Z"), t("2026-06-01T00:00:00Z")));
        assert_eq!(cycle_at(anchor, anchor).end, t("2026-02-01T00:00:00Z"));
        assert_eq!(cycle_at(anchor, t("2026-02-01T00:00:00Z")).start, t("2026-02-01T00:00:00Z"));
    }

    #[test]
    fn proration_matches_the_spec_example() {
        let c = Cycle { start: t("2026-06-01T00:00:00Z"), end: t("2026-07-01T00:00:00Z") };
        let p = prorate(Credits::whole(10), c, t("2026-06-15T09:00:00Z"));
        assert_eq!((p.days_remaining, p.days_in_month, p.prorated_hundredths), (16, 30, 53));
        assert_eq!(p.immediate_charge, Credits::from_micros(5_300_000));
        assert_eq!(p.wire()["proratedValue"], serde_json::json!(0.53));
        assert_eq!(
            prorate(Credits::whole(10), c, c.start).immediate_charge,
            Credits::whole(10),
            "first day: full month"
        );
    }

    #[test]
    fn renewals_are_the_cycle_starts_since_the_last_settlement() {
        let anchor = t("2026-01-15T00:00:00Z");
        let r = renewals_between(anchor, t("2026-01-20T00:00:00Z"), t("2026-04-15T00:00:00Z"));
        assert_eq!(r, vec![t("2026-02-15T00:00:00Z"), t("2026-03-15T00:00:00Z"), t("2026-04-15T00:00:00Z")]);
        assert!(renewals_between(anchor, t("2026-04-15T00:00:00Z"), t("2026-04-20T00:00:00Z")).is_empty());
    }

    proptest! {
        #[test]
        fn every_instant_falls_in_exactly_one_cycle(anchor in 1_700_000_000_000i64..1_900_000_000_000, dt in 0i64..3_000 * DAY_MS) {
            let now = anchor + dt;
            let c = cycle_at(anchor, now);
            prop_assert!(c.start <= now && now < c.end);
            prop_assert!((28..=31).contains(&days(c.start, c.end)));
            let p = prorate(Credits::whole(10), c, now);
            prop_assert!(p.immediate_charge <= Credits::whole(10) && p.immediate_charge.is_positive());
            prop_assert!(p.days_remaining >= 1 && p.days_remaining <= p.days_in_month);
        }

        #[test]
        fn renewals_partition_time(anchor in 1_700_000_000_000i64..1_800_000_000_000, a in 0i64..400 * DAY_MS, b in 0i64..400 * DAY_MS, c in 0i64..400 * DAY_MS) {
            let (t1, t2) = (anchor + a, anchor + a + b);
            let t3 = t2 + c;
            let mut split = renewals_between(anchor, t1, t2);
            split.extend(renewals_between(anchor, t2, t3));
            prop_assert_eq!(split, renewals_between(anchor, t1, t3), "settling in two steps charges the same cycles");
        }
    }
}
