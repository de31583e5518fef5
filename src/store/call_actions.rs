//! The call-action book: one organization's call actions
//! (`crate::domain::call_action`) and the record of their firings (the
//! last [`MAX_RUNS`] runs, for the control API; each call also keeps the
//! runs of its own actions).
//!
//! Lock order: taken after the agents (a create checks the agent first,
//! [`Store::create_call_action`]); nothing is locked while it is held.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::{Store, Tenant};
use crate::domain::call_action::{self, ActionBody, CallAction, ListFilter, Run};
use crate::domain::{DomainError, Millis};

/// Most call actions per organization (the mock's memory bound; inferred).
pub const MAX_ACTIONS: usize = 500;
/// Runs kept per organization, newest last.
pub const MAX_RUNS: usize = 1000;

/// One organization's call actions and recent runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallActionBook {
    actions: BTreeMap<String, CallAction>,
    runs: VecDeque<Run>,
}

fn not_found() -> DomainError {
    DomainError::NotFound(call_action::NOT_FOUND.into())
}

impl CallActionBook {
    /// One action; 404 `Call action not found`.
    pub fn get(&self, id: &str) -> Result<&CallAction, DomainError> {
        self.actions.get(id).ok_or_else(not_found)
    }

    /// Applies a `PUT` (`call_action::apply_update`); 404 when unknown.
    pub fn update(&mut self, id: &str, body: &ActionBody, now: Millis) -> Result<&CallAction, DomainError> {
        let a = self.actions.get_mut(id).ok_or_else(not_found)?;
        *a = call_action::apply_update(a, body, now)?;
        Ok(a)
    }

    /// Deletes one; 404 when unknown. Its past runs stay recorded.
    pub fn delete(&mut self, id: &str) -> Result<(), DomainError> {
        self.actions.remove(id).map(|_| ()).ok_or_else(not_found)
    }

    /// The page `f` asks for, newest first (`createdAt` desc, inferred),
    /// and the number of matches.
    pub fn list(&self, f: &ListFilter) -> (Vec<&CallAction>, usize) {
        let mut hits: Vec<&CallAction> = self.actions.values().filter(|a| f.keeps(a)).collect();
        hits.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        let total = hits.len();
        let skip = usize::try_from(f.page.saturating_sub(1)).unwrap_or(usize::MAX);
        let limit = usize::try_from(f.limit).unwrap_or(usize::MAX);
        (hits.into_iter().skip(skip.saturating_mul(limit)).take(limit).collect(), total)
    }

    /// Every action, oldest first (the firing rules filter them).
    pub fn all(&self) -> Vec<CallAction> {
        self.actions.values().cloned().collect()
    }

    /// Records `runs`, dropping the oldest past [`MAX_RUNS`].
    pub fn record(&mut self, runs: &[Run]) {
        for r in runs {
            if self.runs.len() == MAX_RUNS {
                self.runs.pop_front();
            }
            self.runs.push_back(r.clone());
        }
    }

    /// Recorded runs, oldest first, of `action_id` and/or `call_id`.
    pub fn runs(&self, action_id: Option<&str>, call_id: Option<&str>) -> Vec<&Run> {
        self.runs
            .iter()
            .filter(|r| action_id.is_none_or(|a| r.action_id == a))
            .filter(|r| call_id.is_none_or(|c| r.call_id.as_deref() == Some(c)))
            .collect()
    }
}

impl Tenant {
    /// The organization's call actions and their runs, locked (after the
    /// agents in the lock order).
    pub fn call_actions(&self) -> parking_lot::MutexGuard<'_, CallActionBook> {
        self.call_actions.lock()
    }
}

impl Store {
    /// Creates a call action from a `POST /call-actions` body
    /// (`call_action::validate_create`), for an agent of `t`: 400 `Agent
    /// not found` otherwise (the route documents no 404), 400 past
    /// [`MAX_ACTIONS`]. The agents stay read-locked until it is stored.
    pub fn create_call_action(&self, t: &Tenant, body: &ActionBody) -> Result<CallAction, DomainError> {
        let now = self.clock.now();
        let a = call_action::validate_create(body, self.ids.object_id(now), t.org_id.clone(), now)?;
        let agents = t.agents.read();
        if agents.get(&a.agent_id).is_none() {
            return Err(DomainError::invalid("Agent not found"));
        }
        let mut book = t.call_actions();
        if book.actions.len() >= MAX_ACTIONS {
            return Err(DomainError::invalid(format!("An organization can have at most {MAX_ACTIONS} call actions")));
        }
        book.actions.insert(a.id.clone(), a.clone());
        drop(book);
        drop(agents);
        Ok(a)
    }
}
