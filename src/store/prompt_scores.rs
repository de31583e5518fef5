//! Prompt scoring (`POST /prompt-scoring/score`, `crate::domain::prompt_score`):
//! the scored version or draft is found among the organization's agents,
//! scored, charged and its score cached on the agent record
//! (`AgentRecord::prompt_scores`), all under the agents' write lock, so
//! two concurrent requests for the same unchanged prompt cannot both be
//! scored and charged. The organization's rate window (the times of its
//! last scores) is a small lock of its own, taken after the agents.

use std::collections::VecDeque;

use super::{Store, Tenant};
use crate::call::variables::STANDARD_KEYS;
use crate::domain::ledger::Credits;
use crate::domain::posting::ChargeKind;
use crate::domain::prompt_score::{
    self, admit, check_changed, check_scorable, fingerprint, CachedScore, PromptParts, Score, Target, RATE_LIMIT,
};
use crate::domain::versioning::AgentRecord;
use crate::domain::{DomainError, Millis};

/// Why a score was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreError {
    /// A rule of the request (400, 404), with the platform's message.
    Refused(DomainError),
    /// The organization's rate limit: retry after this many seconds (429).
    RateLimited(u64),
}

impl From<DomainError> for ScoreError {
    fn from(e: DomainError) -> Self {
        Self::Refused(e)
    }
}

/// Where the scored prompt lives: the record key of the cached score, the
/// agent's workflow type and the config.
struct Found {
    agent_id: String,
    key: String,
    workflow_type: String,
    parts: PromptParts,
}

/// `target` among `rec`'s versions (committed ones) or open drafts (v1
/// drafts by `_id` or `draftId`, branch drafts by id).
fn find(rec: &AgentRecord, target: &Target) -> Option<Found> {
    let (key, config) = match target {
        Target::Version(id) => rec.version(id).filter(|v| v.is_committed()).map(|v| (v.id.to_string(), &v.config))?,
        Target::Draft(id) => match rec.open_draft(id) {
            Some(d) => (d.id.clone(), &d.config),
            None => rec
                .branches
                .iter()
                .filter_map(|b| b.open_draft())
                .find(|d| d.id == *id)
                .map(|d| (d.id.clone(), &d.config))?,
        },
    };
    Some(Found {
        agent_id: rec.agent.id.to_string(),
        key,
        workflow_type: rec.agent.workflow_type.to_string(),
        parts: PromptParts::of(config, &STANDARD_KEYS),
    })
}

/// What one successful score costs: 1 credit (the spec).
pub const SCORE_PRICE: Credits = Credits::whole(1);

impl Tenant {
    /// The times (epoch ms) of the organization's recent scores, at most
    /// [`RATE_LIMIT`], locked.
    fn score_window(&self) -> parking_lot::MutexGuard<'_, VecDeque<Millis>> {
        self.score_times.lock()
    }
}

impl Store {
    /// Charges the organization [`SCORE_PRICE`] for a successful score (the
    /// spec: 1 credit per call) on its ledger, as a
    /// `ChargeKind::PromptScore` row ([`Store::charge`]). 400 `Organization
    /// has no credits available` when it cannot pay; nothing is charged
    /// then.
    fn charge_score(&self, t: &Tenant, agent_id: &str, now: Millis) -> Result<(), DomainError> {
        let kind = ChargeKind::PromptScore { agent_id: agent_id.to_string() };
        self.charge(t, &kind, &self.ids.object_id(now), SCORE_PRICE).map(|_| ())
    }

    /// Scores the prompt of `target` (see the module doc and
    /// `domain::prompt_score` for the order of the checks): 404 `Version
    /// not found` / `Draft not found`, 400 for a workflow agent, a missing
    /// prompt or an unchanged one, 429 past the rate limit, then one
    /// credit, then the score, cached on the record.
    pub fn score_prompt(&self, t: &Tenant, target: &Target) -> Result<Score, ScoreError> {
        let now = self.clock.now();
        let mut agents = t.agents.write();
        let found = agents.records().find_map(|r| find(r, target)).ok_or_else(|| match target {
            Target::Version(_) => DomainError::NotFound(prompt_score::VERSION_NOT_FOUND.into()),
            Target::Draft(_) => DomainError::NotFound(prompt_score::DRAFT_NOT_FOUND.into()),
        })?;
        check_scorable(&found.workflow_type, &found.parts.prompt)?;
        let fp = fingerprint(&found.parts.input());
        let rec = agents.get_mut(&found.agent_id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
        check_changed(rec.prompt_scores.get(&found.key), &fp)?;
        let mut window = t.score_window();
        window.retain(|at| *at > now - prompt_score::RATE_WINDOW_MS);
        admit(window.make_contiguous(), now).map_err(ScoreError::RateLimited)?;
        self.charge_score(t, &found.agent_id, now)?;
        let score = prompt_score::score(&found.parts.input());
        if window.len() == RATE_LIMIT {
            window.pop_front();
        }
        window.push_back(now);
        rec.prompt_scores.insert(found.key, CachedScore { score: score.clone(), fingerprint: fp, scored_at: now });
        Ok(score)
    }
}
