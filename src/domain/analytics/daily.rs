//! The single-day operations: `concurrency` (calls holding a slot, minute
//! by minute), `call-start-distribution` (calls placed, minute by minute)
//! and `daily-call-summary` (the day's outcomes plus the live counts).
//!
//! Decided here (the reference is silent):
//! - A call holds a concurrency slot from dispatch (`startedAt`, ringing
//!   included, as R108's slots do) to its end; it counts in every minute its
//!   slot time overlaps (a call that ends the instant it starts counts in
//!   that minute). Calls never dispatched (cancelled in the queue) count in
//!   none. Only ended calls count (A1).
//! - `avgConcurrent` is the mean over the minutes listed (those with at
//!   least one call), `totalMinutes` their number.
//! - `daily-call-summary`: `unansweredCalls` = `no_answer`; cancelled calls
//!   count in `totalCalls` only; `inProgressCalls` and `inQueueCalls`
//!   (pending included) are the live calls created that day.

use std::collections::BTreeMap;

use serde::Serialize;

use super::bucket::Counters;
use super::index::Source;
use super::params::{DayScope, Range};
use super::{date_str, mean, percent, MINUTE};
use crate::domain::call::CallStatus;

const MINUTES: usize = 1440;

/// One minute of `concurrency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConcurrentMinute {
    /// `HH:MM`, local.
    pub minute: String,
    /// Calls holding a slot during it.
    pub concurrent_calls: u64,
}

/// One agent of `concurrency`'s `byAgent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentConcurrency {
    /// Agent id.
    pub agent_id: String,
    /// Most of its calls in one minute.
    pub peak_concurrent: u64,
    /// Mean over its minutes with calls.
    pub avg_concurrent: f64,
    /// Its calls that held a slot that day.
    pub total_calls: u64,
}

/// `data` of `GET /analytics/concurrency`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Concurrency {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Minutes with at least one call, in order.
    pub data_points: Vec<ConcurrentMinute>,
    /// Highest count.
    pub peak_concurrent: u64,
    /// Mean count over the listed minutes.
    pub avg_concurrent: f64,
    /// Listed minutes.
    pub total_minutes: u64,
    /// Per agent (agent id order), only with `includeAgents=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_agent: Option<Vec<AgentConcurrency>>,
}

fn hhmm(minute: usize) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Peak, mean and number of the non-zero minutes of `counts`.
fn shape(counts: &[u64]) -> (u64, f64, u64) {
    let busy: Vec<u64> = counts.iter().copied().filter(|c| *c > 0).collect();
    let n = busy.len() as u64;
    (busy.iter().copied().max().unwrap_or(0), mean(busy.iter().sum(), n), n)
}

/// `GET /analytics/concurrency`.
pub fn concurrency(src: &dyn Source, day: &DayScope) -> Concurrency {
    let range = day.range();
    let since = Range { from: range.from - src.max_span(), to: range.to };
    let mut all = vec![0u64; MINUTES];
    let mut per: BTreeMap<&str, (Vec<u64>, u64)> = BTreeMap::new();
    for r in src.rows(&day.filter(), since) {
        let Some(start) = r.started_at else { continue };
        let (from, to) = (start.max(range.from), r.ended_at.max(start + 1).min(range.to));
        if from >= to {
            continue;
        }
        let minutes = ((from - range.from) / MINUTE) as usize..=((to - 1 - range.from) / MINUTE) as usize;
        minutes.clone().for_each(|m| all[m] += 1);
        if day.include_agents {
            let e = per.entry(src.name(r.agent)).or_insert_with(|| (vec![0; MINUTES], 0));
            minutes.for_each(|m| e.0[m] += 1);
            e.1 += 1;
        }
    }
    let (peak_concurrent, avg_concurrent, total_minutes) = shape(&all);
    let by_agent = day.include_agents.then(|| {
        per.into_iter()
            .map(|(agent, (counts, total_calls))| {
                let (peak_concurrent, avg_concurrent, _) = shape(&counts);
                AgentConcurrency { agent_id: agent.to_string(), peak_concurrent, avg_concurrent, total_calls }
            })
            .collect()
    });
    let data_points = (0..MINUTES)
        .filter(|m| all[*m] > 0)
        .map(|m| ConcurrentMinute { minute: hhmm(m), concurrent_calls: all[m] })
        .collect();
    Concurrency { date: date_str(day.day), data_points, peak_concurrent, avg_concurrent, total_minutes, by_agent }
}

/// One minute of `call-start-distribution`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartMinute {
    /// `HH:MM`, local.
    pub minute: String,
    /// Calls created in it.
    pub call_count: u64,
}

/// `data` of `GET /analytics/call-start-distribution`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartDistribution {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Minutes with calls, in order.
    pub data_points: Vec<StartMinute>,
    /// Their sum.
    pub total_calls: u64,
}

/// `GET /analytics/call-start-distribution`: ended calls by the minute of
/// their `createdAt`.
pub fn call_start_distribution(src: &dyn Source, day: &DayScope) -> StartDistribution {
    let range = day.range();
    let mut per: BTreeMap<usize, u64> = BTreeMap::new();
    for r in src.rows(&day.filter(), range) {
        *per.entry(((r.created_at - range.from) / MINUTE) as usize).or_default() += 1;
    }
    let total_calls = per.values().sum();
    let data_points = per.into_iter().map(|(m, call_count)| StartMinute { minute: hhmm(m), call_count }).collect();
    StartDistribution { date: date_str(day.day), data_points, total_calls }
}

/// `data` of `GET /analytics/daily-call-summary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DailySummary {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Ended calls created that day.
    pub total_calls: u64,
    /// `completed`.
    pub answered_calls: u64,
    /// `no_answer`.
    pub unanswered_calls: u64,
    /// `failed`.
    pub failed_calls: u64,
    /// %.
    pub pickup_rate: f64,
    /// Live calls in progress, created that day.
    pub in_progress_calls: u64,
    /// Live calls pending or queued, created that day.
    pub in_queue_calls: u64,
    /// Talk time of answered calls, ms.
    pub total_duration_ms: u64,
}

/// `GET /analytics/daily-call-summary`.
pub fn daily_call_summary(src: &dyn Source, day: &DayScope) -> DailySummary {
    let (range, filter) = (day.range(), day.filter());
    let mut c = Counters::default();
    src.visit(&filter, range, &mut |_, _, b| c.add(&b.counters));
    let (mut in_progress_calls, mut in_queue_calls) = (0, 0);
    for l in src.live().iter().filter(|l| range.contains(l.created_at)) {
        if !filter.agents.as_ref().is_none_or(|a| a.iter().any(|x| x == src.name(l.agent))) {
            continue;
        }
        match l.status {
            CallStatus::InProgress => in_progress_calls += 1,
            CallStatus::Pending | CallStatus::InQueue => in_queue_calls += 1,
            CallStatus::Completed | CallStatus::Failed | CallStatus::NoAnswer | CallStatus::Cancelled => {}
        }
    }
    DailySummary {
        date: date_str(day.day),
        total_calls: c.total,
        answered_calls: c.answered,
        unanswered_calls: c.no_answer,
        failed_calls: c.failed,
        pickup_rate: percent(c.answered, c.total),
        in_progress_calls,
        in_queue_calls,
        total_duration_ms: c.duration_ms,
    }
}
