//! The index's ended calls as records of their own: [`AnalyticsRow`], the
//! form in which the rows of evicted calls are saved and read back
//! (`crate::store::snapshot`), and the compaction that rebuilds the index
//! from its rows once the strings it interned are mostly unused.
//!
//! Why: the analytics keep counting a call after the call store has
//! evicted it (`domain::call_budget` CB4), so its row is the only record of
//! it left. Saving those rows keeps every figure the same across a restart
//! or an export and import; dropping the oldest of them within a byte
//! budget (CB5) and compacting keep the index's memory bounded.

use serde::{Deserialize, Serialize};

use super::{Index, Row};
use crate::domain::analytics::facts::{CallFacts, CallKind, Outcome};
use crate::domain::call::CallStatus;
use crate::domain::Millis;

/// Approximate bytes one ended call's row holds in the index: the row
/// (about 110 bytes), its call id twice (a map key and the row's own), its
/// time-order entry, its bucket entries and its interned retry-family id.
/// An estimate, used by the analytics budget (CB5).
pub const ROW_BYTES: usize = 320;

/// One ended call as the analytics know it, with its ids and numbers
/// spelled out. Times are epoch ms, money millionths of a credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalyticsRow {
    /// `CALL-<ms>-<hex6>`.
    pub call_id: String,
    /// Agent id.
    pub agent_id: String,
    /// The campaign that placed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    /// `outbound`, `inbound` or `webcall`.
    pub call_type: String,
    /// `completed`, `no_answer`, `failed` or `cancelled`.
    pub status: String,
    /// `createdAt`.
    pub created_at: Millis,
    /// Dispatched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Millis>,
    /// Ended (never before `createdAt`).
    pub ended_at: Millis,
    /// Talk time, ms.
    pub duration_ms: u32,
    /// `callCost`, millionths of a credit.
    pub cost_micros: i64,
    /// `retryAttemptNumber`.
    pub attempt: u32,
    /// The retry family's first call id.
    pub family: String,
    /// The organization's number (A8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// The customer's number (A8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
}

fn status_of(outcome: Outcome) -> CallStatus {
    match outcome {
        Outcome::Answered => CallStatus::Completed,
        Outcome::NoAnswer => CallStatus::NoAnswer,
        Outcome::Failed => CallStatus::Failed,
        Outcome::Cancelled => CallStatus::Cancelled,
    }
}

impl AnalyticsRow {
    /// The facts that give back exactly this row when recorded: the
    /// connect time is the end less the talk time, the numbers go to
    /// `from`/`to` by the call's direction (A8). Err names a bad field.
    pub fn facts(&self) -> Result<CallFacts, String> {
        let kind = CallKind::parse(&self.call_type).ok_or_else(|| {
            format!("call {}: callType '{}' is not outbound, inbound or webcall", self.call_id, self.call_type)
        })?;
        let status = [CallStatus::Completed, CallStatus::NoAnswer, CallStatus::Failed, CallStatus::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == self.status)
            .ok_or_else(|| format!("call {}: status '{}' is not an ended status", self.call_id, self.status))?;
        if self.call_id.is_empty() || self.agent_id.is_empty() || self.family.is_empty() {
            return Err("callId, agentId and family must not be empty".into());
        }
        if self.ended_at < self.created_at {
            return Err(format!("call {}: endedAt is before createdAt", self.call_id));
        }
        let (from, to) = match kind {
            CallKind::Outbound => (self.line.clone(), self.customer.clone()),
            CallKind::Inbound => (self.customer.clone(), self.line.clone()),
            CallKind::Webcall => (None, None),
        };
        let talk = Millis::from(self.duration_ms);
        Ok(CallFacts {
            call_id: self.call_id.clone(),
            agent_id: self.agent_id.clone(),
            campaign_id: self.campaign_id.clone(),
            kind,
            status,
            from,
            to,
            created_at: self.created_at,
            started_at: self.started_at,
            connected_at: (talk > 0).then(|| self.ended_at - talk),
            ended_at: Some(self.ended_at),
            cost: self.cost_micros as f64 / 1_000_000.0,
            attempt: self.attempt,
            family: self.family.clone(),
            is_test: false,
            disconnect_reason: None,
            avg_latency_ms: 0.0,
        })
    }
}

impl Index {
    fn record_of(&self, row: &Row) -> AnalyticsRow {
        let name = |id: u32| self.names.get(id).to_string();
        AnalyticsRow {
            call_id: row.call_id.to_string(),
            agent_id: name(row.agent),
            campaign_id: row.campaign.map(name),
            call_type: row.kind.as_str().into(),
            status: status_of(row.outcome).as_str().into(),
            created_at: row.created_at,
            started_at: row.started_at,
            ended_at: row.ended_at,
            duration_ms: row.duration_ms,
            cost_micros: row.cost_micros,
            attempt: row.attempt,
            family: name(row.family),
            line: row.line.map(name),
            customer: row.customer.map(name),
        }
    }

    /// The ended calls `keep` admits by call id, as records, in
    /// (`createdAt`, call id) order.
    pub fn ended_rows(&self, keep: impl Fn(&str) -> bool) -> Vec<AnalyticsRow> {
        let mut rows: Vec<&Row> =
            self.ended.values().filter_map(|at| self.row(*at)).filter(|r| keep(&r.call_id)).collect();
        rows.sort_by(|a, b| (a.created_at, &a.call_id).cmp(&(b.created_at, &b.call_id)));
        rows.into_iter().map(|r| self.record_of(r)).collect()
    }

    /// Every ended call's id and end time (epoch ms).
    pub fn ended_calls(&self) -> Vec<(String, Millis)> {
        self.ended.values().filter_map(|at| self.row(*at)).map(|r| (r.call_id.to_string(), r.ended_at)).collect()
    }

    /// Records `row` (an upsert like [`Index::record`]). Err names a bad
    /// field; nothing changes then.
    pub fn record_row(&mut self, row: &AnalyticsRow) -> Result<(), String> {
        let facts = row.facts()?;
        self.record(&facts);
        Ok(())
    }

    /// Rebuilds the index from its own rows when most interned strings
    /// are no longer used by any row (each ended call adds at least its
    /// retry family's id, which nothing frees), so that the index's memory
    /// follows the calls it holds. Every answer stays the same. Cost: one
    /// pass over the rows, at most once per as many removals as there are
    /// rows.
    pub(super) fn compact_if_sparse(&mut self) {
        let used = 5 * self.ended.len() + self.live.len();
        if self.names.len() > 2 * used + 1024 {
            self.compact();
        }
    }

    /// The index rebuilt from its rows (see `Index::compact_if_sparse`).
    pub fn compact(&mut self) {
        let mut next = Index::new();
        for record in self.ended_rows(|_| true) {
            if let Ok(facts) = record.facts() {
                next.record(&facts);
            }
        }
        let mut live: Vec<(&str, &super::LiveRow)> = self.live.iter().map(|(k, v)| (&**k, v)).collect();
        live.sort_by_key(|(id, _)| *id);
        for (id, row) in live {
            let agent = next.names.id(self.names.get(row.agent));
            next.live.insert(id.into(), super::LiveRow { agent, ..*row });
        }
        *self = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analytics::tests::{call, A, T0};

    /// Each call brings a retry family and a customer of its own, as a
    /// suite dialling fresh numbers does.
    fn unique(n: u32) -> CallFacts {
        let mut f = call(n, A, T0 + i64::from(n) * 1000, CallStatus::Completed, Some(30_000));
        f.family = format!("family-{n}");
        f.to = Some(format!("+1555{n:07}"));
        f
    }

    #[test]
    fn forgetting_rows_frees_their_strings_in_the_end() {
        let mut ix = Index::new();
        for n in 0..20_000 {
            ix.record(&unique(n));
            if n >= 10 {
                ix.remove(&unique(n - 10).call_id);
            }
        }
        assert_eq!(ix.len(), 10);
        assert!(ix.names.len() <= 2 * (5 * 10) + 1024, "{} strings for 10 rows", ix.names.len());
        let kept = ix.ended_rows(|_| true);
        let mut fresh = Index::new();
        (19_990..20_000).for_each(|n| fresh.record(&unique(n)));
        assert_eq!(kept, fresh.ended_rows(|_| true), "the rows are those of the last ten calls");
    }

    #[test]
    fn a_saved_row_with_a_bad_field_is_refused() {
        let mut ix = Index::new();
        ix.record(&unique(1));
        let row = ix.ended_rows(|_| true).remove(0);
        let bad = |f: fn(&mut AnalyticsRow)| {
            let mut r = row.clone();
            f(&mut r);
            Index::new().record_row(&r).expect_err("refused")
        };
        assert!(bad(|r| r.status = "in_progress".into()).contains("not an ended status"));
        assert!(bad(|r| r.call_type = "fax".into()).contains("callType 'fax'"));
        assert!(bad(|r| r.ended_at = r.created_at - 1).contains("endedAt is before createdAt"));
        assert!(bad(|r| r.family = String::new()).contains("must not be empty"));
        assert!(Index::new().record_row(&row).is_ok());
    }
}
