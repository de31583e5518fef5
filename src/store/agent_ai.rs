//! `POST /agent/with-ai` (`crate::domain::agent_ai`): the generated config
//! becomes an agent through the normal create path, so the config rules and
//! access gates (R022) apply to it as to any `POST /agent`.

use serde_json::Value;

use super::{Store, Tenant};
use crate::domain::agent::parse_new;
use crate::domain::agent_ai::{generate, security_check, Brief};
use crate::domain::knowledge_base::NOT_FOUND;
use crate::domain::DomainError;

impl Store {
    /// Creates the agent `brief` describes (`agent_ai::generate`) and
    /// returns its id. 400 `Knowledge base not found` when the brief names
    /// a knowledge base `t` does not hold, the security check's 400, the
    /// create path's 400/403. No credits are charged (the account ledger
    /// is not part of this build).
    pub fn create_agent_with_ai(&self, t: &Tenant, brief: &Brief) -> Result<String, DomainError> {
        if let Some(kb) = &brief.knowledge_base_id {
            t.knowledge().get(kb).map_err(|_| DomainError::invalid(NOT_FOUND))?;
        }
        let config = generate(brief);
        let prompt = config.get("singlePromptConfig").and_then(|s| s.get("prompt")).and_then(Value::as_str);
        security_check(prompt.unwrap_or_default())?;
        self.add_agent(t, parse_new(&config)?)
    }
}
