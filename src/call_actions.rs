//! Call actions firing (`crate::domain::call_action`): the engine that
//! runs them at the points of a call they name.
//!
//! - **post-call**: a finish hook on the call engine ([`Calls::on_finish`])
//!   runs, once per ended call, every post-call action of the call's agent
//!   whose conditions hold (`post_call_runs`). Each run is recorded in the
//!   organization's call-action book (control API) and on the call itself
//!   (`callActions` of `GET /conversation/{id}`).
//! - **trigger**: a provider record event (the mock has no CRM; the
//!   control API delivers it) places one outbound call per matching
//!   trigger action through [`Calls::place`], the normal call path, to the
//!   record's phone field, with the record's scalar fields as variables
//!   and the agent's caller ID (LIVE K1). The run is recorded on the book
//!   and on the placed call; a refused placement is a failed run.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::calls::caller_id::resolve;
use crate::calls::{Call, CallLink, CallRequest, CallType, Calls, Pin};
use crate::domain::call_action::{
    plan_trigger, post_call_runs, trigger_failed, trigger_run, EndedCall, ProviderEvent, Run, TriggerDial,
};
use crate::store::{CallBook, Store, Tenant};

/// The engine (see the module doc).
pub struct CallActions {
    store: Arc<Store>,
    calls: Arc<Calls>,
}

impl std::fmt::Debug for CallActions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallActions").finish_non_exhaustive()
    }
}

impl CallActions {
    /// The engine over `store`, placing trigger calls through `calls`, with
    /// its post-call hook registered on `calls`.
    pub fn new(store: Arc<Store>, calls: &Arc<Calls>) -> Arc<Self> {
        let me = Arc::new(Self { store, calls: Arc::clone(calls) });
        let weak = Arc::downgrade(&me);
        calls.on_finish(Arc::new(move |book, call| {
            if let Some(me) = weak.upgrade() {
                me.after_call(book, call);
            }
        }));
        me
    }

    /// Runs the post-call actions of `call`, which just ended.
    fn after_call(&self, book: &Arc<CallBook>, call: &Arc<Call>) {
        let Some(t) = self.store.find_tenant(book.api_key()) else { return };
        let now = self.store.clock().now();
        let ended = EndedCall {
            call_id: &call.call_id,
            agent_id: &call.agent_id,
            status: call.status.as_str(),
            call_type: call.call_type.as_str(),
            duration_seconds: call.duration_ms() as f64 / 1000.0,
            disconnect_reason: call.disconnect_reason.as_deref().unwrap_or_default(),
            from: call.from.as_deref().unwrap_or_default(),
            to: call.to.as_deref().unwrap_or_default(),
            variables: &call.variables,
        };
        let runs = {
            let mut actions = t.call_actions();
            let runs = post_call_runs(&actions.all(), &ended, now);
            actions.record(&runs);
            runs
        };
        attach(book, &call.call_id, runs);
    }

    /// A provider record event (control API): places the calls of the
    /// matching trigger actions of `t`. Returns `{calls: [callId], runs:
    /// [Run]}`, every run recorded (failed ones with their reason).
    pub fn trigger(&self, t: &Tenant, ev: &ProviderEvent) -> Value {
        let now = self.store.clock().now();
        let actions = t.call_actions().all();
        let (dials, mut runs) = plan_trigger(&actions, ev, now);
        let mut placed = Vec::new();
        for dial in dials {
            let Some(action) = actions.iter().find(|a| a.id == dial.action_id) else { continue };
            match self.dial(t, &dial) {
                Ok(call_id) => {
                    let run = trigger_run(action, &call_id, &dial.variables, now);
                    attach(t.calls(), &call_id, vec![run.clone()]);
                    runs.push(run);
                    placed.push(call_id);
                }
                Err(e) => runs.push(trigger_failed(action, &dial.variables, e.to_string(), now)),
            }
        }
        t.call_actions().record(&runs);
        json!({"calls": placed, "runs": runs.iter().map(Run::to_json).collect::<Vec<_>>()})
    }

    /// Places one trigger dial through the normal call path.
    fn dial(&self, t: &Tenant, dial: &TriggerDial) -> Result<String, crate::domain::DomainError> {
        let linked = self.store.read_agent(t, &dial.agent_id, |r| r.agent.telephony_product_id.clone())?;
        let req = CallRequest {
            agent_id: dial.agent_id.clone(),
            pin: Pin::Active,
            call_type: CallType::TelephonyOutbound,
            from: Some(resolve(t, None, &dial.agent_id, &linked, &dial.phone)),
            to: Some(dial.phone.clone()),
            variables: dial.variables.clone(),
            is_test: false,
            conversation_id: None,
            chat: false,
        };
        Ok(self.calls.place(t, None, req, CallLink::default())?.call_id)
    }
}

/// Appends `runs` to the record of `call_id` in `book`.
fn attach(book: &CallBook, call_id: &str, runs: Vec<Run>) {
    if runs.is_empty() {
        return;
    }
    if let Some((c, _)) = book.lock().entry_mut(call_id) {
        c.call_actions.extend(runs);
    }
}
