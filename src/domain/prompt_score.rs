//! Prompt scoring (`POST /prompt-scoring/score`, OAS tag Prompt Scoring):
//! the request rules and the score itself, a pure, documented function of
//! the prompt text standing in for the platform's two Gemini passes.
//!
//! Request rules (OAS): exactly one of `versionId`/`draftId` (400 for both
//! or neither); `single_prompt` agents only (400); a prompt is required
//! (400); the same prompt as at the last scoring of that version or draft
//! is refused (400, the spec's exact message) and the cached score is read
//! from the agent instead; 1 credit per successful score (the account
//! ledger); at most [`RATE_LIMIT`] scores per [`RATE_WINDOW_MS`] per
//! organization (429 with the spec's `rateLimit` body).
//!
//! The score ([`score`]):
//! - tokens ≈ characters / 4, rounded up; `band` `lean` < 4K ≤ `normal` <
//!   10K ≤ `heavy` < 15K ≤ `overweight` (OAS); `estimated_ttft_overhead_ms`
//!   = 0.045 ms per token, one decimal;
//! - 11 dimensions in the spec's order and tiers, each `Strong`,
//!   `Adequate`, `Weak`, `Missing` or `Not Applicable`, from the cues the
//!   prompt contains ([`super::prompt_rubric`] lists them);
//! - overall = 100 × Σ weight × factor / Σ weight over the applicable
//!   dimensions, rounded; weights 12 (tier 1), 8 (tier 2), 6 (tier 3);
//!   factors 1, 0.7, 0.35, 0; then the gates: Information Integrity Weak or
//!   Missing caps it at 70, Variable & Tool Hygiene Weak or Missing at 50;
//! - grade `Excellent` ≥ 85 > `Good` ≥ 70 > `Needs Work` ≥ 50 > `Poor`.
//!
//! So the same prompt always scores the same, and adding a clear
//! instruction never lowers the score (property-tested).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::ids::{hex, is_object_id};
use super::prompt_rubric::{assess, DIMENSIONS};
use super::time::iso;
use super::{DomainError, Millis};

/// 400 (OAS example): the prompt did not change since its last scoring.
pub const UNCHANGED: &str = "Prompt has not changed since last scoring — retrieve the existing score via GET agent";
/// 400: both or neither of `versionId`/`draftId` (inferred wording).
pub const EXACTLY_ONE: &str = "Provide exactly one of versionId or draftId";
/// 400: not a `single_prompt` agent (inferred wording).
pub const SINGLE_PROMPT_ONLY: &str = "Prompt scoring is only supported for single_prompt agents";
/// 400: empty prompt (inferred wording of the spec's reason).
pub const NO_PROMPT: &str = "No prompt found on the version or draft";
/// 404 (OAS example).
pub const VERSION_NOT_FOUND: &str = "Version not found";
/// 404 for a draft (inferred, after the version's).
pub const DRAFT_NOT_FOUND: &str = "Draft not found";
/// Scores per window per organization (OAS 429 example `limit: 10`).
pub const RATE_LIMIT: usize = 10;
/// The rate window, ms (the mock's choice: one minute).
pub const RATE_WINDOW_MS: Millis = 60_000;
/// First-token latency per prompt token, ms.
pub const TTFT_MS_PER_TOKEN: f64 = 0.045;

/// Request body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreBody {
    /// A published version (24-hex).
    pub version_id: Option<String>,
    /// A draft.
    pub draft_id: Option<String>,
}

/// What is scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A published version or revision.
    Version(String),
    /// A draft.
    Draft(String),
}

/// Validates the body. Errors (400): [`EXACTLY_ONE`], `Invalid version id`.
pub fn validate(b: &ScoreBody) -> Result<Target, DomainError> {
    match (&b.version_id, &b.draft_id) {
        (Some(v), None) if is_object_id(v) => Ok(Target::Version(v.clone())),
        (Some(_), None) => Err(DomainError::invalid("Invalid version id")),
        (None, Some(d)) if !d.is_empty() => Ok(Target::Draft(d.clone())),
        _ => Err(DomainError::invalid(EXACTLY_ONE)),
    }
}

/// What the scorer reads of a version or draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptInput<'a> {
    /// `singlePromptConfig.prompt`.
    pub prompt: &'a str,
    /// Names of the tools in `singlePromptConfig.tools`.
    pub tools: &'a [String],
    /// Variable names the prompt may use: the 11 standard keys and the
    /// config's `defaultVariables` keys.
    pub variables: &'a [String],
}

/// What the scorer reads of a config, owned: `singlePromptConfig.prompt`,
/// the names of `singlePromptConfig.tools` (a tool without a `name` is
/// named by its `type`), and the variables the prompt may use (`standard`,
/// the call's standard keys, then the `defaultVariables` keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptParts {
    /// The prompt (`""` when there is none).
    pub prompt: String,
    /// Tool names.
    pub tools: Vec<String>,
    /// Variable names.
    pub variables: Vec<String>,
}

impl PromptParts {
    /// The parts of `config` (see the type's doc).
    pub fn of(config: &Map<String, Value>, standard: &[&str]) -> Self {
        let spc = config.get("singlePromptConfig");
        let prompt = spc.and_then(|s| s.get("prompt")).and_then(Value::as_str).unwrap_or_default().to_string();
        let tools = spc
            .and_then(|s| s.get("tools"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("name").or_else(|| t.get("type")).and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        let defaults = config.get("defaultVariables").and_then(Value::as_object).into_iter().flat_map(|m| m.keys());
        let variables = standard.iter().map(|k| (*k).to_string()).chain(defaults.cloned()).collect();
        Self { prompt, tools, variables }
    }

    /// The scorer's view of these parts.
    pub fn input(&self) -> PromptInput<'_> {
        PromptInput { prompt: &self.prompt, tools: &self.tools, variables: &self.variables }
    }
}

/// `promptScore` and `promptScoreStale` of a version, draft or revision
/// whose config is `config` and whose cached score is `cached` (OAS
/// #Revision): `null` and `false` when it was never scored; stale when the
/// prompt, tools or variables changed since.
pub fn cached_fields(cached: Option<&CachedScore>, config: &Map<String, Value>, standard: &[&str]) -> (Value, bool) {
    match cached {
        None => (Value::Null, false),
        Some(c) => (c.to_json(), c.is_stale(&fingerprint(&PromptParts::of(config, standard).input()))),
    }
}

/// Checks the agent type and the prompt. Errors (400):
/// [`SINGLE_PROMPT_ONLY`], [`NO_PROMPT`].
pub fn check_scorable(workflow_type: &str, prompt: &str) -> Result<(), DomainError> {
    if workflow_type != "single_prompt" {
        return Err(DomainError::invalid(SINGLE_PROMPT_ONLY));
    }
    if prompt.trim().is_empty() {
        return Err(DomainError::invalid(NO_PROMPT));
    }
    Ok(())
}

/// A stable digest of what the score depends on (prompt and tools),
/// lowercase hex SHA-256.
pub fn fingerprint(input: &PromptInput<'_>) -> String {
    let mut h = Sha256::new();
    h.update(input.prompt.as_bytes());
    for t in input.tools {
        h.update([0]);
        h.update(t.as_bytes());
    }
    for v in input.variables {
        h.update([1]);
        h.update(v.as_bytes());
    }
    hex(&h.finalize())
}

/// The "changed since last scoring" rule: 400 [`UNCHANGED`] when the
/// target's cached score has this fingerprint.
pub fn check_changed(cached: Option<&CachedScore>, fingerprint: &str) -> Result<(), DomainError> {
    match cached {
        Some(c) if c.fingerprint == fingerprint => Err(DomainError::invalid(UNCHANGED)),
        Some(_) | None => Ok(()),
    }
}

/// The rate limit: `recent` are the organization's score times (epoch
/// ms). `Err(retry_after_secs)` when [`RATE_LIMIT`] fall within the
/// window ending at `now`.
pub fn admit(recent: &[Millis], now: Millis) -> Result<(), u64> {
    let inside: Vec<Millis> = recent.iter().copied().filter(|t| *t > now - RATE_WINDOW_MS && *t <= now).collect();
    if inside.len() < RATE_LIMIT {
        return Ok(());
    }
    let oldest = inside.iter().copied().min().unwrap_or(now);
    let wait_ms = (oldest + RATE_WINDOW_MS - now).max(1);
    Err(u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000))
}

/// The 429 body (OAS): `{message, rateLimit: {routeClass, limit, retryAfterSec}}`.
pub fn rate_limited_body(retry_after_secs: u64) -> Value {
    json!({"message": "Rate limit exceeded",
           "rateLimit": {"routeClass": "prompt-scoring", "limit": RATE_LIMIT, "retryAfterSec": retry_after_secs}})
}

/// A dimension's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    /// Not covered.
    Missing,
    /// Barely covered.
    Weak,
    /// Partly covered.
    Adequate,
    /// Clearly covered.
    Strong,
    /// Does not apply (no tools, nothing referenced).
    #[serde(rename = "Not Applicable")]
    NotApplicable,
}

impl Level {
    /// The factor in the overall score; `None` when not applicable.
    pub fn factor(self) -> Option<f64> {
        match self {
            Self::Strong => Some(1.0),
            Self::Adequate => Some(0.7),
            Self::Weak => Some(0.35),
            Self::Missing => Some(0.0),
            Self::NotApplicable => None,
        }
    }

    /// Weak or Missing: what trips a gate.
    pub fn is_poor(self) -> bool {
        matches!(self, Self::Weak | Self::Missing)
    }
}

/// One scored dimension (OAS `dimensions[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    /// 1 (highest), 2 or 3.
    pub tier: u8,
    /// Level.
    pub level: Level,
    /// A quote from the prompt, or `""` when nothing relevant was found.
    pub evidence_span: String,
    /// The dimension's name, e.g. `Role & Objective`.
    pub title: String,
    /// Why it got its level.
    pub description: String,
}

/// The result (OAS 200 `data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// 0–100.
    pub overall_score: u32,
    /// `Excellent`, `Good`, `Needs Work` or `Poor`.
    pub overall_grade: String,
    /// `lean`, `normal`, `heavy` or `overweight`.
    pub band: String,
    /// Estimated first-token latency overhead, ms.
    pub estimated_ttft_overhead_ms: f64,
    /// The 11 dimensions, in the spec's order.
    pub dimensions: Vec<Dimension>,
}

/// A score kept on a version, draft or revision (`promptScore`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedScore {
    /// The score.
    pub score: Score,
    /// [`fingerprint`] of what was scored.
    pub fingerprint: String,
    /// When, epoch ms.
    pub scored_at: Millis,
}

impl CachedScore {
    /// OAS #PromptScore: the score's fields plus `scoredAt`.
    pub fn to_json(&self) -> Value {
        let mut v = json!(self.score);
        v["scoredAt"] = json!(iso(self.scored_at));
        v
    }

    /// `promptScoreStale`: the prompt changed since this score.
    pub fn is_stale(&self, current_fingerprint: &str) -> bool {
        self.fingerprint != current_fingerprint
    }
}

/// Estimated tokens: characters / 4, rounded up.
pub fn tokens(prompt: &str) -> u64 {
    u64::try_from(prompt.chars().count()).unwrap_or(u64::MAX).div_ceil(4)
}

/// The density band of `tokens` (OAS).
pub fn band(tokens: u64) -> &'static str {
    match tokens {
        0..4_000 => "lean",
        4_000..10_000 => "normal",
        10_000..15_000 => "heavy",
        _ => "overweight",
    }
}

/// First-token latency overhead, ms, one decimal.
pub fn ttft_ms(tokens: u64) -> f64 {
    (tokens as f64 * TTFT_MS_PER_TOKEN * 10.0).round() / 10.0
}

/// The grade of an overall score.
pub fn grade(score: u32) -> &'static str {
    match score {
        85.. => "Excellent",
        70..85 => "Good",
        50..70 => "Needs Work",
        _ => "Poor",
    }
}

fn weight(tier: u8) -> f64 {
    match tier {
        1 => 12.0,
        2 => 8.0,
        _ => 6.0,
    }
}

/// Combines the dimensions into the overall score (see the module doc).
pub fn overall(dimensions: &[Dimension]) -> u32 {
    let (mut got, mut max) = (0.0, 0.0);
    for d in dimensions {
        if let Some(f) = d.level.factor() {
            got += weight(d.tier) * f;
            max += weight(d.tier);
        }
    }
    let mut score = if max > 0.0 { (100.0 * got / max).round() as u32 } else { 0 };
    let level = |title: &str| dimensions.iter().find(|d| d.title == title).map(|d| d.level);
    if level("Information Integrity").is_some_and(Level::is_poor) {
        score = score.min(70);
    }
    if level("Variable & Tool Hygiene").is_some_and(Level::is_poor) {
        score = score.min(50);
    }
    score
}

/// Scores a prompt (see the module doc). Pure and deterministic.
pub fn score(input: &PromptInput<'_>) -> Score {
    let t = tokens(input.prompt);
    let dimensions: Vec<Dimension> = DIMENSIONS.iter().map(|d| assess(d, input, t)).collect();
    let overall_score = overall(&dimensions);
    Score {
        overall_score,
        overall_grade: grade(overall_score).into(),
        band: band(t).into(),
        estimated_ttft_overhead_ms: ttft_ms(t),
        dimensions,
    }
}

#[cfg(test)]
#[path = "prompt_score_props.rs"]
mod props;
