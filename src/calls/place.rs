//! Placing a call: the rules every call passes, whoever asks for it
//! (BEHAVIOR R036, R102–R107, R121).
//!
//! 1. [`Calls::prepare`] looks the agent up and resolves the config the
//!    call runs ([`Pin`]): unknown agent, version or draft is 400 `… not
//!    found`; an archived agent 400 `Agent is archived and cannot initiate
//!    calls` (R036); a workflow agent without a graph 400 `Workflow not
//!    found` (R104). It then picks the scenario (the named one first, as
//!    the `x-atoms-mock-scenario` header does; see `crate::scenarios`)
//!    and admits the call on the account (`Store::admit_call`: the plan's
//!    `telephony` feature 403, a positive balance 400 `Organization has
//!    no credits available`, `dailyCalls` 403). Retries are admitted too.
//! 2. The call gets its ids and counts toward the agent's `totalCalls`,
//!    then either waits for dispatch ([`Calls::place`]: REST, campaigns,
//!    retries) or starts connected (`Calls::start_live`: realtime
//!    sessions, which prepare at the handshake and start once the socket
//!    is up).
//!
//! Errors are [`DomainError`]s with the platform's messages; the HTTP
//! layer renders them and the campaign dialler records them as the
//! campaign's error (R167).

use std::sync::Arc;

use serde_json::Value;

use super::{Call, Calls, NewCall};
pub use crate::call::{CallLink, CallRequest, Pin};
use crate::domain::config::Config;
use crate::domain::versioning::AgentRecord;
use crate::domain::DomainError;
use crate::scenarios::Scenario;
use crate::store::Tenant;

/// The config `pin` names on `rec`: the config, its version id and number.
fn resolve_config(rec: &AgentRecord, pin: &Pin) -> Result<(Config, String, u32), DomainError> {
    let not_found = |what: &str| DomainError::invalid(format!("{what} not found"));
    match pin {
        Pin::Active => {
            rec.active().map(|v| (v.config.clone(), v.id.to_string(), v.number)).ok_or_else(|| not_found("Version"))
        }
        Pin::Version(id) => {
            rec.version(id).map(|v| (v.config.clone(), v.id.to_string(), v.number)).ok_or_else(|| not_found("Version"))
        }
        Pin::Draft(id) => {
            let d = rec.draft(id).ok_or_else(|| not_found("Draft"))?;
            let number = rec.version(&d.base_version_id).map_or(0, |v| v.number);
            Ok((d.config.clone(), d.base_version_id.clone(), number))
        }
        Pin::BranchDraft(b) => {
            let d = rec.branch(b).and_then(|b| b.open_draft()).ok_or_else(|| not_found("Draft"))?;
            let base = d.base_revision_id.clone().unwrap_or_else(|| rec.agent.active_version_id.to_string());
            let number = rec.version(&base).map_or(0, |v| v.number);
            Ok((d.config.clone(), base, number))
        }
    }
}

impl Calls {
    /// Checks `t`'s agent may place `req` (R036, R104: archived 400, a
    /// `workflow_graph` agent without conversational-agents access 403, no
    /// workflow 400, credits and plan) and picks the
    /// scenario (`scenario` names one, as the request header would; `None`
    /// uses the assignments): the call to create, not yet created.
    pub fn prepare(
        &self,
        t: &Tenant,
        scenario: Option<&str>,
        req: CallRequest,
        link: CallLink,
    ) -> Result<NewCall, DomainError> {
        let snapshot = self.store.read_agent(t, &req.agent_id, |rec| {
            let (config, version_id, number) = resolve_config(rec, &req.pin)?;
            Ok::<_, DomainError>((rec.agent.archived, rec.agent.workflow_type.clone(), config, version_id, number))
        });
        let (archived, workflow_type, config, version_id, version_number) =
            snapshot.map_err(|_| DomainError::invalid("Agent not found"))??;
        if archived {
            return Err(DomainError::invalid("Agent is archived and cannot initiate calls"));
        }
        crate::domain::agent::check_graph_access(&workflow_type, t.access())?;
        if workflow_type == "workflow_graph" && !config.get("workflowGraph").is_some_and(Value::is_object) {
            return Err(DomainError::invalid("Workflow not found"));
        }
        let scenario =
            self.library.choose(scenario, req.to.as_deref(), &req.agent_id).map_err(DomainError::Validation)?;
        self.store.admit_call(t, req.call_type)?;
        Ok(NewCall { request: req, link, version_id, version_number, config, scenario })
    }

    /// Places a call: [`Calls::prepare`], then the record is created
    /// `pending` in `t`'s call book and dispatched on the clock (it may
    /// queue, R108). The one placement path of the REST routes and the
    /// campaign dialler.
    pub fn place(
        self: &Arc<Self>,
        t: &Tenant,
        scenario: Option<&str>,
        req: CallRequest,
        link: CallLink,
    ) -> Result<Call, DomainError> {
        let new = self.prepare(t, scenario, req, link)?;
        let retry_of = new.link.retry_of.clone();
        let call = self.new_record(t, new);
        Ok(self.admit(t.calls(), call, retry_of.as_deref()))
    }

    /// Places a retry of `parent_id` (R121): same agent, numbers,
    /// variables, config, test flag and campaign, with the parent's
    /// `retryCallId` pointing at it. Runs `scenario`, or the parent's when
    /// `None`. Errors: 404 `No conversation found`, or 400
    /// [`retry_refusal`]'s message.
    pub fn retry(
        self: &Arc<Self>,
        t: &Tenant,
        parent_id: &str,
        scenario: Option<Arc<Scenario>>,
    ) -> Result<Call, DomainError> {
        let (parent, _) =
            t.calls().get(parent_id).ok_or_else(|| DomainError::NotFound("No conversation found".into()))?;
        retry_refusal(&parent).map_or(Ok(()), |m| Err(DomainError::Validation(m)))?;
        self.store.admit_call(t, parent.call_type)?;
        let own = parent.variables.iter().filter(|(k, _)| !super::variables::STANDARD_KEYS.contains(&k.as_str()));
        let request = CallRequest {
            agent_id: parent.agent_id.clone(),
            pin: Pin::Version(parent.version_id.clone()),
            call_type: parent.call_type,
            from: parent.from.clone(),
            to: parent.to.clone(),
            variables: own.map(|(k, v)| (k.clone(), v.clone())).collect(),
            is_test: parent.is_test,
            conversation_id: None,
            chat: parent.chat,
        };
        let new = NewCall {
            request,
            link: CallLink { campaign_id: parent.campaign_id.clone(), retry_of: Some(parent.call_id.clone()) },
            version_id: parent.version_id.clone(),
            version_number: parent.version_number,
            config: parent.config.clone(),
            scenario: scenario.unwrap_or_else(|| Arc::clone(&parent.scenario)),
        };
        let mut call = self.new_record(t, new);
        if parent.conversation_id.is_some() {
            call.conversation_id = Some(crate::domain::ids::derived_id(&["session", &call.call_id])[..22].to_string());
        }
        Ok(self.admit(t.calls(), call, Some(&parent.call_id)))
    }

    /// The record of a new call of `t`: fresh ids at the clock's now, and
    /// one more call on the agent's `totalCalls`.
    pub(super) fn new_record(&self, t: &Tenant, new: NewCall) -> Call {
        let now = self.clock().now();
        let (record_id, call_id) = (self.store.ids().object_id(now), self.store.ids().call_id(now));
        self.store.count_call(t, &new.request.agent_id);
        Call::new(new, record_id, call_id, now)
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
