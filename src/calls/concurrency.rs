//! The organization's concurrency (R108; the Concurrency guide, CONC): its
//! limit, the plan's concurrent calls, and per-agent reservations per
//! channel, both held by the call book's slot allocator
//! (`domain::concurrency::Slots`). Every change starts, at once and in
//! order, the waiting calls it lets start; none stops a live call.
//!
//! [`Calls::set_limit`] is the one way to change the limit: the control
//! API (`PUT /_admin/concurrency`) and a plan change both go through it,
//! so `GET /concurrency`'s `orgLimit` and the allocator never disagree.

use std::collections::HashSet;
use std::sync::Arc;

use super::{BookRef, Calls};
use crate::domain::concurrency::{self, AgentLabel, Overview, ReservationUpdate};
use crate::domain::DomainError;
use crate::store::{CallBook, Tenant};

impl Calls {
    /// The concurrency limit of `book`'s organization (R108; default
    /// `--concurrency-limit`).
    pub fn limit(&self, book: &CallBook) -> usize {
        usize::try_from(book.lock().limit()).unwrap_or(usize::MAX)
    }

    /// Sets the concurrency limit of `book`'s organization (at least 1;
    /// values past `u32::MAX` saturate) and starts the waiting calls that
    /// now fit. Live calls above a lowered limit run on; new calls wait
    /// until enough have ended.
    pub fn set_limit(self: &Arc<Self>, book: &BookRef, limit: usize) {
        let now = self.clock().now();
        let mut table = book.lock();
        let started = table.set_limit(u32::try_from(limit).unwrap_or(u32::MAX));
        self.start_all(book, &mut table, started, now);
    }

    /// Applies a checked `PUT /concurrency/reservations` body to `t`'s
    /// reservations ([`concurrency::apply_update`]: in order, each item
    /// replacing its agent's four numbers, all zeros removing the agent)
    /// and starts the waiting calls the new reservations let start.
    /// Returns `updated`, the number of items. Errors (400, nothing
    /// changes): `Agent not found` for an agent the organization does not
    /// have; a total above the limit (unless the update lowers it).
    pub fn set_reservations(self: &Arc<Self>, t: &Tenant, updates: &[ReservationUpdate]) -> Result<usize, DomainError> {
        // Agents are read before the call book is locked (lock order).
        let known: HashSet<&str> = updates
            .iter()
            .map(|u| u.agent_id.as_str())
            .filter(|id| self.store.read_agent(t, id, |_| ()).is_ok())
            .collect();
        let now = self.clock().now();
        let book = t.calls();
        let mut table = book.lock();
        let next = concurrency::apply_update(table.reservations(), updates, table.limit(), |id| known.contains(id))?;
        let started = table.set_reservations(next);
        self.start_all(book, &mut table, started, now);
        Ok(updates.len())
    }

    /// `data` of `GET /concurrency`: the limit, the reservations and each
    /// reserved agent's name and avatar (a deleted agent keeps its row,
    /// with an empty name).
    pub fn concurrency(&self, t: &Tenant) -> Overview {
        let (limit, reservations) = {
            let table = t.calls().lock();
            (table.limit(), table.reservations().clone())
        };
        concurrency::overview(limit, &reservations, |id| {
            self.store
                .read_agent(t, id, |r| AgentLabel {
                    name: r.agent.name.clone(),
                    avatar_url: r.agent.avatar_url.clone(),
                })
                .unwrap_or_default()
        })
    }
}
