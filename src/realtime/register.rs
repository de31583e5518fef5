//! `POST /conversation/register-call` (R189–R192): the checks a grant
//! passes before its token is minted. The HTTP route only parses the body
//! (`http::calls::requests::RegisterCallRequest`) and renders the answer.

use super::{Grant, Realtime};
use crate::domain::ledger::Credits;
use crate::domain::DomainError;
use crate::domain::Millis;
use crate::scenarios::{Library, SCENARIO_HEADER};
use crate::store::{Store, Tenant};

impl Realtime {
    /// Checks `grant` and mints a single-use token for it, valid until
    /// `grant.expires_at`. Returns the token, `wct_<uuid>`.
    ///
    /// Errors: the agent unknown in `t`, 404 `Agent not found`; archived,
    /// 400 `Agent is archived and cannot initiate calls`; no credits left,
    /// 400 `Organization has no credits available` (R190: checked here, not
    /// only at the handshake); a scenario the library does not hold, 400
    /// `Unknown scenario '<name>' in x-atoms-mock-scenario`.
    pub fn register(
        &self,
        store: &Store,
        library: &Library,
        t: &Tenant,
        grant: Grant,
        now: Millis,
    ) -> Result<String, DomainError> {
        if store.read_agent(t, &grant.agent_id, |r| r.agent.archived)? {
            return Err(DomainError::invalid("Agent is archived and cannot initiate calls"));
        }
        store.ensure_funds(t, Credits::ZERO)?;
        if let Some(name) = grant.scenario.as_deref().filter(|n| library.get(n).is_none()) {
            return Err(DomainError::invalid(format!("Unknown scenario '{name}' in {SCENARIO_HEADER}")));
        }
        let token = format!("wct_{}", store.ids().uuid());
        self.mint(token.clone(), grant, now);
        Ok(token)
    }
}
