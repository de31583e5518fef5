//! [`Bucket`]: what a set of ended calls adds up to. Counters are summed;
//! percentiles and distinct counts cannot be, so a bucket also keeps the
//! exact values they need (durations, customer and family ids) as small
//! vectors of `u32`. Adding a call and removing it again restores the
//! bucket exactly, which is what lets the index update a call in place.

use super::facts::{is_long, is_short, Outcome};
use super::index::Row;
use super::{mean, round2};

/// Summable figures of a set of ended calls (rules A2, A3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Ended calls.
    pub total: u64,
    /// `completed`.
    pub answered: u64,
    /// `no_answer`.
    pub no_answer: u64,
    /// `failed`.
    pub failed: u64,
    /// `cancelled`.
    pub cancelled: u64,
    /// Talk time of answered calls, ms.
    pub duration_ms: u64,
    /// `callCost` of every call, millionths of a credit.
    pub cost_micros: i64,
    /// Answered calls under 30 s.
    pub short: u64,
    /// Answered calls of 5 min or more.
    pub long: u64,
}

impl Counters {
    /// The counters of one call.
    pub fn of(r: &Row) -> Self {
        let answered = r.outcome == Outcome::Answered;
        let ms = u64::from(r.duration_ms);
        Self {
            total: 1,
            answered: u64::from(answered),
            no_answer: u64::from(r.outcome == Outcome::NoAnswer),
            failed: u64::from(r.outcome == Outcome::Failed),
            cancelled: u64::from(r.outcome == Outcome::Cancelled),
            duration_ms: if answered { ms } else { 0 },
            cost_micros: r.cost_micros,
            short: u64::from(answered && is_short(ms)),
            long: u64::from(answered && is_long(ms)),
        }
    }

    /// Adds `o`.
    pub fn add(&mut self, o: &Counters) {
        self.total += o.total;
        self.answered += o.answered;
        self.no_answer += o.no_answer;
        self.failed += o.failed;
        self.cancelled += o.cancelled;
        self.duration_ms += o.duration_ms;
        self.cost_micros += o.cost_micros;
        self.short += o.short;
        self.long += o.long;
    }

    /// Takes away `o`, which was added before.
    pub fn sub(&mut self, o: &Counters) {
        self.total = self.total.saturating_sub(o.total);
        self.answered = self.answered.saturating_sub(o.answered);
        self.no_answer = self.no_answer.saturating_sub(o.no_answer);
        self.failed = self.failed.saturating_sub(o.failed);
        self.cancelled = self.cancelled.saturating_sub(o.cancelled);
        self.duration_ms = self.duration_ms.saturating_sub(o.duration_ms);
        self.cost_micros -= o.cost_micros;
        self.short = self.short.saturating_sub(o.short);
        self.long = self.long.saturating_sub(o.long);
    }

    /// The total/answered pair.
    pub fn tally(&self) -> Tally {
        Tally { total: self.total, answered: self.answered }
    }
}

/// Calls and answered calls of one group (a number, an attempt).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Ended calls.
    pub total: u64,
    /// Answered calls.
    pub answered: u64,
}

impl Tally {
    /// Adds `o`.
    pub fn add(&mut self, o: Tally) {
        self.total += o.total;
        self.answered += o.answered;
    }
}

/// A set of ended calls: counters plus the values behind percentiles and
/// distinct counts. Ids are those of the source's name table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bucket {
    /// The sums.
    pub counters: Counters,
    /// Durations of answered calls, ms, in no particular order.
    pub durations: Vec<u32>,
    /// Customer numbers of answered calls (one entry per call).
    pub reached: Vec<u32>,
    /// Customer numbers of every call (one entry per call).
    pub dialled: Vec<u32>,
    /// Retry families (one entry per call).
    pub families: Vec<u32>,
    /// Per `retryAttemptNumber`, sorted by it.
    pub attempts: Vec<(u32, Tally)>,
    /// Per line (the organization's number), sorted by its id.
    pub lines: Vec<(u32, Tally)>,
}

impl Bucket {
    /// True when no call is in it.
    pub fn is_empty(&self) -> bool {
        self.counters.total == 0
    }

    /// Adds one call.
    pub fn add(&mut self, r: &Row) {
        let c = Counters::of(r);
        self.counters.add(&c);
        if c.answered == 1 {
            self.durations.push(r.duration_ms);
            self.reached.extend(r.customer);
        }
        self.dialled.extend(r.customer);
        self.families.push(r.family);
        bump(&mut self.attempts, r.attempt, c.tally(), true);
        if let Some(line) = r.line {
            bump(&mut self.lines, line, c.tally(), true);
        }
    }

    /// Removes one call added before.
    pub fn remove(&mut self, r: &Row) {
        let c = Counters::of(r);
        self.counters.sub(&c);
        if c.answered == 1 {
            take(&mut self.durations, r.duration_ms);
            if let Some(x) = r.customer {
                take(&mut self.reached, x);
            }
        }
        if let Some(x) = r.customer {
            take(&mut self.dialled, x);
        }
        take(&mut self.families, r.family);
        bump(&mut self.attempts, r.attempt, c.tally(), false);
        if let Some(line) = r.line {
            bump(&mut self.lines, line, c.tally(), false);
        }
    }
}

/// Adds (or takes away) `t` at `key` of a sorted map; drops emptied keys.
fn bump(map: &mut Vec<(u32, Tally)>, key: u32, t: Tally, add: bool) {
    match map.binary_search_by_key(&key, |(k, _)| *k) {
        Ok(i) if add => map[i].1.add(t),
        Ok(i) => {
            let e = &mut map[i].1;
            e.total = e.total.saturating_sub(t.total);
            e.answered = e.answered.saturating_sub(t.answered);
            if e.total == 0 {
                map.remove(i);
            }
        }
        Err(i) if add => map.insert(i, (key, t)),
        Err(_) => {}
    }
}

/// Removes one occurrence of `x`.
fn take(v: &mut Vec<u32>, x: u32) {
    if let Some(i) = v.iter().position(|y| *y == x) {
        v.swap_remove(i);
    }
}

/// Average and percentiles of a set of durations, ms (rule A4).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spread {
    /// Mean.
    pub avg: f64,
    /// Median (mean of the middle two for an even count).
    pub median: f64,
    /// 90th percentile, nearest rank.
    pub p90: f64,
    /// 95th percentile, nearest rank.
    pub p95: f64,
}

impl Spread {
    /// The spread of `values` (sorted in place); all 0 when empty.
    pub fn of(values: &mut [u32]) -> Self {
        let n = values.len();
        if n == 0 {
            return Self::default();
        }
        values.sort_unstable();
        let sum: u64 = values.iter().map(|v| u64::from(*v)).sum();
        let mid = n / 2;
        let median = if n % 2 == 1 {
            f64::from(values[mid])
        } else {
            (f64::from(values[mid - 1]) + f64::from(values[mid])) / 2.0
        };
        let rank = |p: usize| f64::from(values[(n * p).div_ceil(100).clamp(1, n) - 1]);
        Self { avg: mean(sum, n as u64), median: round2(median), p90: rank(90), p95: rank(95) }
    }
}

/// How many distinct ids `v` holds (sorts it in place).
pub fn distinct(v: &mut Vec<u32>) -> u64 {
    v.sort_unstable();
    v.dedup();
    v.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analytics::CallKind;

    fn row(outcome: Outcome, duration_ms: u32, customer: u32, attempt: u32) -> Row {
        Row {
            call_id: format!("CALL-{customer}-{attempt}").into(),
            agent: 0,
            campaign: None,
            kind: CallKind::Outbound,
            outcome,
            created_at: 0,
            started_at: Some(0),
            ended_at: 1,
            duration_ms,
            cost_micros: 250_000,
            attempt,
            family: customer,
            line: Some(7),
            customer: Some(customer),
        }
    }

    #[test]
    fn a_bucket_sums_calls_and_keeps_the_values_percentiles_need() {
        let mut b = Bucket::default();
        b.add(&row(Outcome::Answered, 20_000, 1, 0));
        b.add(&row(Outcome::NoAnswer, 0, 2, 0));
        b.add(&row(Outcome::Answered, 400_000, 2, 1));
        let c = b.counters;
        assert_eq!((c.total, c.answered, c.no_answer, c.short, c.long), (3, 2, 1, 1, 1));
        assert_eq!((c.duration_ms, c.cost_micros), (420_000, 750_000));
        assert_eq!(b.lines, vec![(7, Tally { total: 3, answered: 2 })]);
        assert_eq!(b.attempts, vec![(0, Tally { total: 2, answered: 1 }), (1, Tally { total: 1, answered: 1 })]);
        assert_eq!(distinct(&mut b.dialled.clone()), 2);
    }

    #[test]
    fn removing_a_call_restores_the_bucket_exactly() {
        let mut b = Bucket::default();
        b.add(&row(Outcome::Answered, 20_000, 1, 0));
        let before = b.clone();
        let extra = row(Outcome::Answered, 90_000, 2, 1);
        b.add(&extra);
        b.remove(&extra);
        assert_eq!(b, before);
        b.remove(&row(Outcome::Answered, 20_000, 1, 0));
        assert!(b.is_empty() && b.attempts.is_empty() && b.lines.is_empty());
    }

    #[test]
    fn spread_uses_the_middle_mean_and_nearest_ranks() {
        let mut v = vec![40, 10, 30, 20];
        assert_eq!(Spread::of(&mut v), Spread { avg: 25.0, median: 25.0, p90: 40.0, p95: 40.0 });
        let mut v: Vec<u32> = (1..=20).collect();
        let s = Spread::of(&mut v);
        assert_eq!((s.median, s.p90, s.p95), (10.5, 18.0, 19.0));
        assert_eq!(Spread::of(&mut []), Spread::default());
    }
}
