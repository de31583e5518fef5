//! The analytics book: one organization's analytics index
//! ([`Index`]), which every `/analytics/*`
//! figure is computed from, and the two per-call reads of that tag that
//! need other books too.
//!
//! **Fed by the call engine.** `crate::calls` reports a call with
//! [`AnalyticsBook::record`] (its one analytics hook, `track`) whenever
//! something the figures read changes: the call is created (`pending`),
//! dispatched (`in_queue` or `in_progress`), starts live, or ends (status,
//! end time and `callCost` final). The report is an upsert, so the index
//! always equals the call book's current records, and a request merges
//! the index's 15-minute buckets instead of scanning calls.
//!
//! **Non-call spend.** Credits spent on anything but a call (number rental
//! and renewal, prompt scoring) are not in the index: `usage/timeseries`
//! reads them from the ledger when asked
//! ([`AccountBook::non_call_usage`](super::AccountBook::non_call_usage)),
//! so the ledger is their one record and they survive a restart with it.
//!
//! **Locks.** The index has its own `RwLock`, taken last: the engine writes
//! while it holds the call book's lock (so reports of one call are applied
//! in order), readers take only the read lock, for one figure, and release
//! it before they lock any other book. Nothing is locked under it.
//!
//! **Persistence.** Rebuilt by recording every call of the call book, plus
//! the rows of the calls the call store evicted (CB4, CB5), which the
//! organization's snapshot carries as `analytics`
//! ([`AnalyticsRow`]).

use parking_lot::{RwLock, RwLockReadGuard};

use super::{Store, Tenant};
use crate::call::Call;
use crate::domain::analytics::log::{self, CallCountsLog, ConversationDetails, RowContext, CALL_NOT_FOUND};
use crate::domain::analytics::{AnalyticsRow, Index, Scope};
use crate::domain::time::parse_iso;
use crate::domain::{DomainError, Millis};

/// The one field of a stored event the conversation details read besides
/// its type, parsed from the event's frame.
#[derive(serde::Deserialize)]
struct Stamp {
    timestamp: String,
}

/// One organization's analytics index behind its lock.
#[derive(Debug, Default)]
pub struct AnalyticsBook {
    index: RwLock<Index>,
}

impl AnalyticsBook {
    /// Reports `call` as it is now (the call engine's hook): the index
    /// forgets what it knew about the call and takes these facts.
    pub fn record(&self, call: &Call) {
        let facts = call.facts();
        self.index.write().record(&facts);
    }

    /// Records the saved rows of evicted calls (an organization read back
    /// from a snapshot). Err, and nothing is recorded, when a row has a
    /// bad field, appears twice, or is a call `stored` says the call book
    /// holds.
    pub fn restore_evicted(&self, rows: &[AnalyticsRow], stored: impl Fn(&str) -> bool) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        let mut facts = Vec::with_capacity(rows.len());
        for r in rows {
            if !seen.insert(r.call_id.as_str()) {
                return Err(format!("call {} appears twice", r.call_id));
            }
            if stored(&r.call_id) {
                return Err(format!("call {} is also among the calls", r.call_id));
            }
            facts.push(r.facts()?);
        }
        let mut index = self.index.write();
        facts.iter().for_each(|f| index.record(f));
        Ok(())
    }

    /// Takes call `call_id` out of the figures: the row budget gave up
    /// the row of an evicted call (`domain::call_budget` CB5).
    pub fn forget(&self, call_id: &str) {
        self.index.write().remove(call_id);
    }

    /// The index, read-locked: hold it for one figure, never across
    /// `.await` or while locking another book.
    pub fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read()
    }
}

impl Store {
    /// `GET /analytics/call-counts-log`: page `page` (of `limit` rows) of
    /// the ended calls `scope` admits, newest first, each rendered from its
    /// call record with its agent's and campaign's names (a deleted
    /// campaign's name is left out) and `recording` (the URL of its
    /// recording, if any). The books are read one after another, each lock
    /// released before the next is taken.
    pub fn call_counts_log(
        &self,
        t: &Tenant,
        scope: &Scope,
        (page, limit): (usize, usize),
        recording: impl Fn(&Call) -> Option<String>,
    ) -> CallCountsLog {
        let (ids, total) = {
            let index = t.analytics().read();
            let (rows, total) = log::page(&*index, scope, page, limit);
            (rows.into_iter().map(|r| r.call_id.to_string()).collect::<Vec<_>>(), total)
        };
        let calls: Vec<Call> = {
            let table = t.calls().lock();
            ids.iter().filter_map(|id| table.call(id).cloned()).collect()
        };
        let campaigns: Vec<Option<String>> = {
            let book = t.campaigns();
            calls
                .iter()
                .map(|c| c.campaign_id.as_ref().and_then(|id| book.campaign(id)).map(|x| x.name.clone()))
                .collect()
        };
        let agents = t.agents.read();
        let rows = calls
            .iter()
            .zip(&campaigns)
            .map(|(c, campaign)| {
                let url = recording(c);
                let cx = RowContext {
                    org_id: t.org_id(),
                    agent_name: agents.get(&c.agent_id).map_or("", |r| r.agent.name.as_str()),
                    campaign_name: campaign.as_deref(),
                    recording_url: url.as_deref(),
                };
                log::log_row(&c.facts(), &cx)
            })
            .collect();
        CallCountsLog::new(rows, total, page, limit)
    }

    /// `GET /analytics/conversation-details/{callId}`: the call's
    /// transcript and events as the engine recorded them so far (a live
    /// call answers too). 404 `Call log not found` for an unknown call or
    /// another organization's.
    pub fn conversation_details(&self, t: &Tenant, call_id: &str) -> Result<ConversationDetails, DomainError> {
        let (call, hub) = t.calls().get(call_id).ok_or_else(|| DomainError::NotFound(CALL_NOT_FOUND.into()))?;
        let (agent_name, workflow_type) = self
            .read_agent(t, &call.agent_id, |r| (r.agent.name.clone(), r.agent.workflow_type.clone()))
            .unwrap_or_else(|_| (String::new(), "single_prompt".into()));
        let events = hub.events();
        let events: Vec<(&str, Millis)> = events
            .iter()
            .filter(|e| !e.event_type.is_empty())
            .filter_map(|e| {
                Some((&*e.event_type, parse_iso(&serde_json::from_slice::<Stamp>(e.json()).ok()?.timestamp)?))
            })
            .collect();
        let transcript: Vec<(&str, &str, Millis)> =
            call.transcript.iter().map(|l| (l.role, l.content.as_str(), l.at)).collect();
        let cx = RowContext { org_id: t.org_id(), agent_name: &agent_name, ..RowContext::default() };
        Ok(log::conversation_details(&call.facts(), &cx, &workflow_type, &transcript, &events))
    }
}
