//! The Do-Not-Call list's operations that reach beyond the list (spec tag
//! DNC; rules in [`crate::domain::dnc`]): an `agentId` is checked against
//! the organization's agents (agents, then the list, as the store's lock
//! order says), and new entries get their ids from the store.
//!
//! The list itself is a [`dnc::DncList`] behind [`Tenant::dnc`]; the call
//! engine reads it (and adds opt-outs to it) through the call book.

use serde_json::Value;

use super::{Store, Tenant};
use crate::domain::dnc::{self, DncItem, DncPage, DncQuery, RawDncQuery, SortField, SortOrder, UploadSummary};
use crate::domain::DomainError;

impl Store {
    /// One page of `GET /dnc` ([`dnc::parse_query`], `DncList::list`).
    /// Errors: 400 `Invalid agent id`, 400 for a `sortField`/`sortOrder`
    /// outside its enum, 404 `Resource not found` for an `agentId` that is
    /// not one of the organization's agents.
    pub fn dnc_page(&self, t: &Tenant, raw: &RawDncQuery) -> Result<DncPage, DomainError> {
        let q = dnc::parse_query(raw)?;
        if let Some(agent) = q.agent_id.as_deref() {
            self.read_agent(t, agent, |_| ()).map_err(|_| DomainError::NotFound(dnc::UNKNOWN_AGENT.into()))?;
        }
        Ok(t.dnc().list(&q, t.org_id()))
    }

    /// A manual upload (control API): `{"phoneNumbers": [...], "agentId"?}`
    /// ([`dnc::parse_upload`]), all or nothing. Returns `{added, skipped}`.
    /// Errors: 400 with the field's message, 400 [`dnc::LIST_FULL`], 404
    /// `Agent not found` for an `agentId` the organization does not have.
    pub fn dnc_upload(&self, t: &Tenant, body: &Value) -> Result<UploadSummary, DomainError> {
        let news = dnc::parse_upload(body)?;
        if let Some(agent) = news.first().and_then(|n| n.agent_id.as_deref()) {
            self.read_agent(t, agent, |_| ()).map_err(|_| DomainError::NotFound("Agent not found".into()))?;
        }
        let now = self.clock().now();
        t.dnc().add_all(news, || self.ids().object_id(now), now)
    }

    /// Every entry of the organization's list, newest first (control API).
    pub fn dnc_entries(&self, t: &Tenant) -> Vec<DncItem> {
        let all = DncQuery {
            agent_id: None,
            search: None,
            sort_field: SortField::CreatedAt,
            sort_order: SortOrder::Desc,
            page: 1,
            size: dnc::MAX_ENTRIES,
        };
        t.dnc().list(&all, t.org_id()).entries
    }
}
