//! The byte budget of stored ended calls (`--call-store-bytes`), a mock
//! extension: the platform keeps call logs for its retention period, a
//! long-lived mock keeps them within a budget of memory instead.
//!
//! Rules (the reference is silent on retention; BEHAVIOR R116 lists a
//! purged recording as a 404, and R115 answers 404 for an unknown call):
//! - **CB1** Only ended calls count and only ended calls are evicted: a
//!   pending, queued or in-progress call is never handed to the budget.
//! - **CB2** Each ended call counts the approximate bytes it held when it
//!   ended (its record, event log and transcript), estimated once.
//! - **CB3** While the ended calls' total exceeds the budget, the call
//!   that ended first goes (ties: the one reported first), until the total
//!   is within the budget. A call larger than the whole budget is evicted
//!   at once; a budget of 0 keeps no ended call.
//! - **CB4** An evicted call is gone with everything hanging off it: its
//!   call log (`GET /conversation/{id}`), SSE replay and recording answer
//!   404 like an unknown call (R115, R116), and lists no longer show it;
//!   the analytics figures (the 15-minute buckets) keep counting it
//!   within CB5.
//! - **CB5** An evicted call's analytics row (its compact record in the
//!   index, counted at `analytics::ROW_BYTES`, an estimate) is kept within
//!   a second budget (`--analytics-bytes`, default 64 MiB, about 200,000
//!   rows), by the same rule as CB3: when it is exceeded, the rows of the
//!   calls that ended first leave the figures. A stored call always
//!   counts; 0 keeps no evicted call's row.
//!
//! [`CallBudget`] applies CB1–CB3 incrementally, O(log n) a call;
//! [`evictions`] is the rule over a whole set, which the property tests
//! hold the incremental form to.

use std::collections::BTreeMap;

use super::Millis;

/// The default budget: 256 MiB (`--call-store-bytes`).
pub const DEFAULT_BUDGET: usize = 256 << 20;

/// The default budget of evicted calls' analytics rows: 64 MiB
/// (`--analytics-bytes`, CB5).
pub const DEFAULT_ANALYTICS_BUDGET: usize = 64 << 20;

/// A stored call as the budget sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredCall {
    /// When it ended (epoch ms); `None` while pending, queued or in
    /// progress.
    pub ended_at: Option<Millis>,
    /// Its approximate bytes (CB2).
    pub bytes: usize,
}

/// The indices of `calls` to evict under `budget` bytes, oldest end
/// first (CB1, CB3): ended calls ordered by (end time, index), taken from
/// the front until the rest total at most `budget`.
pub fn evictions(calls: &[StoredCall], budget: usize) -> Vec<usize> {
    let mut ended: Vec<(Millis, usize)> =
        calls.iter().enumerate().filter_map(|(i, c)| c.ended_at.map(|at| (at, i))).collect();
    ended.sort_unstable();
    let mut total: usize = ended.iter().map(|&(_, i)| calls[i].bytes).sum();
    let mut out = Vec::new();
    for (_, i) in ended {
        if total <= budget {
            break;
        }
        total -= calls[i].bytes;
        out.push(i);
    }
    out
}

/// The ended calls of a server, by end time, with their bytes: tell it
/// each call as it ends ([`CallBudget::ended`]); it answers which stored
/// calls to evict (CB3).
#[derive(Debug)]
pub struct CallBudget<K> {
    budget: usize,
    total: usize,
    next: u64,
    by_end: BTreeMap<(Millis, u64), (K, usize)>,
}

impl<K> CallBudget<K> {
    /// No ended call yet, `budget` bytes allowed.
    pub fn new(budget: usize) -> Self {
        Self { budget, total: 0, next: 0, by_end: BTreeMap::new() }
    }

    /// The budget, bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Bytes of the ended calls kept.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Ended calls kept.
    pub fn len(&self) -> usize {
        self.by_end.len()
    }

    /// True when no ended call is kept.
    pub fn is_empty(&self) -> bool {
        self.by_end.is_empty()
    }

    /// Call `key` ended at `ended_at` (epoch ms) holding `bytes`. Returns
    /// the calls to evict, oldest end first (possibly `key` itself).
    pub fn ended(&mut self, key: K, ended_at: Millis, bytes: usize) -> Vec<K> {
        self.by_end.insert((ended_at, self.next), (key, bytes));
        self.next += 1;
        self.total += bytes;
        let mut out = Vec::new();
        while self.total > self.budget {
            let Some((_, (key, bytes))) = self.by_end.pop_first() else { break };
            self.total -= bytes;
            out.push(key);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A call: when it ends (`None`: still live) and its bytes.
    fn call() -> impl Strategy<Value = StoredCall> {
        (prop::option::weighted(0.8, 0i64..50), 0usize..400)
            .prop_map(|(ended_at, bytes)| StoredCall { ended_at, bytes })
    }

    #[test]
    fn the_oldest_ended_call_goes_first() {
        let calls = [
            StoredCall { ended_at: Some(20), bytes: 10 },
            StoredCall { ended_at: None, bytes: 1000 },
            StoredCall { ended_at: Some(10), bytes: 10 },
            StoredCall { ended_at: Some(30), bytes: 10 },
        ];
        assert_eq!(evictions(&calls, 25), vec![2], "CB3: the call that ended at 10");
        assert_eq!(evictions(&calls, 0), vec![2, 0, 3], "CB1: the live call stays");
        assert_eq!(evictions(&calls, 30), Vec::<usize>::new());
    }

    proptest! {
        /// CB1, CB3: never a live call; ended calls leave in end order,
        /// every evicted one ended no later than every kept one, and the
        /// kept ended calls fit the budget (always possible: CB1 leaves
        /// live calls out of the count).
        #[test]
        fn evictions_are_oldest_first_never_live_and_fit(calls in prop::collection::vec(call(), 0..40), budget in 0usize..3000) {
            let out = evictions(&calls, budget);
            prop_assert!(out.iter().all(|&i| calls[i].ended_at.is_some()), "CB1");
            let ends: Vec<Millis> = out.iter().filter_map(|&i| calls[i].ended_at).collect();
            prop_assert!(ends.windows(2).all(|w| w[0] <= w[1]), "oldest first");
            let kept = |i: usize| !out.contains(&i);
            let kept_ended: Vec<usize> = (0..calls.len()).filter(|&i| kept(i) && calls[i].ended_at.is_some()).collect();
            let total: usize = kept_ended.iter().map(|&i| calls[i].bytes).sum();
            prop_assert!(total <= budget, "kept {total} bytes over a budget of {budget}");
            if let (Some(&newest_out), Some(oldest_kept)) =
                (ends.last(), kept_ended.iter().filter_map(|&i| calls[i].ended_at).min())
            {
                prop_assert!(newest_out <= oldest_kept);
            }
            // Minimal: keeping the last one evicted would break the budget.
            if let Some(&last) = out.last() {
                prop_assert!(total + calls[last].bytes > budget);
            }
        }

        /// The incremental [`CallBudget`], told of calls as they end,
        /// evicts exactly what [`evictions`] evicts, in the same order, and
        /// its total is that of the calls it keeps.
        #[test]
        fn the_incremental_budget_follows_the_rule(calls in prop::collection::vec(call(), 0..40), budget in 0usize..3000) {
            let mut order: Vec<(Millis, usize)> =
                calls.iter().enumerate().filter_map(|(i, c)| c.ended_at.map(|at| (at, i))).collect();
            order.sort_unstable();
            let mut b = CallBudget::new(budget);
            let mut gone = Vec::new();
            for (at, i) in order {
                gone.extend(b.ended(i, at, calls[i].bytes));
                prop_assert!(b.total() <= budget);
            }
            prop_assert_eq!(&gone, &evictions(&calls, budget));
            let kept: usize =
                (0..calls.len()).filter(|i| calls[*i].ended_at.is_some() && !gone.contains(i)).map(|i| calls[i].bytes).sum();
            prop_assert_eq!(kept, b.total());
        }
    }
}
