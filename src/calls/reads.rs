//! Reading calls and their retry families, and placing retries (R117,
//! R121): the call book seen from the outside.

use std::sync::Arc;

use super::{variables, Call, CallBook, CallHub, Calls, NewCall, TenantRef};
use crate::domain::DomainError;
use crate::scenarios::Scenario;
use crate::store::Tenant;

impl Calls {
    /// The organization that placed `call_id`, if it still has the call
    /// (a reset forgets it).
    pub fn owner(&self, call_id: &str) -> Option<Arc<Tenant>> {
        let t = self.owners.get(call_id)?.upgrade()?;
        let has = t.calls.lock().calls.contains_key(call_id);
        has.then_some(t)
    }

    /// Running and queued calls of `t` (R108).
    pub fn load(&self, t: &Tenant) -> (usize, usize) {
        let book = t.calls.lock();
        (book.running, book.queue.len())
    }

    /// Places a retry of `parent_id` (R121): same agent, numbers,
    /// variables, config, test flag and campaign, with `retry_of` set, so
    /// the parent's `retryCallId` points at it. Runs `scenario`, or the
    /// parent's when `None`. Errors (the message to show): unknown call,
    /// or [`retry_refusal`].
    pub fn retry(
        self: &Arc<Self>,
        t: &TenantRef,
        parent_id: &str,
        scenario: Option<Arc<Scenario>>,
        record_id: String,
        call_id: String,
    ) -> Result<Call, DomainError> {
        let (parent, _) =
            self.get(t, parent_id).ok_or_else(|| DomainError::NotFound("No conversation found".into()))?;
        retry_refusal(&parent).map_or(Ok(()), |m| Err(DomainError::Validation(m)))?;
        let own = parent.variables.iter().filter(|(k, _)| !variables::STANDARD_KEYS.contains(&k.as_str()));
        let new = NewCall {
            agent_id: parent.agent_id.clone(),
            call_type: parent.call_type,
            from: parent.from.clone(),
            to: parent.to.clone(),
            variables: own.map(|(k, v)| (k.clone(), v.clone())).collect(),
            version_id: parent.version_id.clone(),
            version_number: parent.version_number,
            config: parent.config.clone(),
            is_test: parent.is_test,
            scenario: scenario.unwrap_or_else(|| Arc::clone(&parent.scenario)),
            conversation_id: parent
                .conversation_id
                .as_ref()
                .map(|_| crate::domain::ids::derived_id(&["session", &call_id])[..22].to_string()),
            campaign_id: parent.campaign_id.clone(),
            retry_of: Some(parent.call_id.clone()),
        };
        Ok(self.place(t, new, record_id, call_id))
    }

    /// One call of `t` and its hub.
    pub fn get(&self, t: &Tenant, call_id: &str) -> Option<(Call, Arc<CallHub>)> {
        t.calls.lock().calls.get(call_id).map(|e| (e.call.clone(), Arc::clone(&e.hub)))
    }

    /// Every call of `t` passing `keep`, in creation order.
    pub fn list(&self, t: &Tenant, keep: impl Fn(&Call) -> bool) -> Vec<Call> {
        let book = t.calls.lock();
        book.order.iter().filter_map(|id| book.calls.get(id)).map(|e| &e.call).filter(|c| keep(c)).cloned().collect()
    }

    /// The retry family of `call_id`: root first, then attempts (R117).
    pub fn family(&self, t: &Tenant, call_id: &str) -> Option<Vec<Call>> {
        let book = t.calls.lock();
        let c = &book.calls.get(call_id)?.call;
        let root = c.root_call_id.clone().unwrap_or_else(|| c.call_id.clone());
        let mut fam: Vec<Call> = book
            .order
            .iter()
            .filter_map(|id| book.calls.get(id))
            .map(|e| &e.call)
            .filter(|x| x.call_id == root || x.root_call_id.as_deref() == Some(root.as_str()))
            .cloned()
            .collect();
        fam.sort_by_key(|x| x.retry_attempt_number);
        Some(fam)
    }
}

/// Why `c` cannot be retried, or `None` if it can: only an ended call
/// that is the latest attempt of its family may be retried (R121).
pub fn retry_refusal(c: &Call) -> Option<String> {
    if !c.status.is_terminal() {
        return Some(format!("Call {} has not ended yet ({})", c.call_id, c.status.as_str()));
    }
    c.retry_call_id.as_ref().map(|r| format!("Call {} was already retried by {r}", c.call_id))
}

pub(super) fn link_retry(book: &mut CallBook, parent_id: &str, call: &mut Call) {
    let Some(parent) = book.calls.get(parent_id).map(|e| e.call.clone()) else { return };
    let root = parent.root_call_id.clone().unwrap_or_else(|| parent.call_id.clone());
    call.root_call_id = Some(root.clone());
    call.retry_attempt_number = parent.retry_attempt_number + 1;
    call.retry_count = call.retry_attempt_number + 1;
    if let Some(p) = book.calls.get_mut(parent_id) {
        p.call.retry_call_id = Some(call.call_id.clone());
    }
    let count = call.retry_count;
    for e in book.calls.values_mut() {
        if e.call.call_id == root || e.call.root_call_id.as_deref() == Some(root.as_str()) {
            e.call.retry_count = count;
        }
    }
}
