//! The call record: what the call log, the SSE stream, the webhooks and
//! the campaign exports all read, and what a caller supplies to create
//! one ([`NewCall`]).
//!
//! A leaf of the crate: it depends on the pure rules (`domain`) and the
//! scenario model only, so the event fan-out (`events`), the per-organization
//! call book (`store`) and the engines (`calls`, `campaigns`, `webhooks`,
//! `realtime`) can all share it without depending on each other. It does
//! not place, dispatch or end calls: `calls` does.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub mod analytics;
mod facts;
pub mod variables;

use crate::domain::call::CallStatus;
use crate::domain::call_action::Run;
use crate::domain::concurrency::Channel;
use crate::domain::config::Config;
use crate::domain::Millis;
use crate::scenarios::timeline::Transition;
use crate::scenarios::Scenario;
use analytics::CallAnalytics;

/// Call type (R110).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallType {
    /// Outbound phone call.
    TelephonyOutbound,
    /// Inbound phone call.
    TelephonyInbound,
    /// Browser, app or chat session (chat is logged as webcall, L-E4).
    Webcall,
}

impl CallType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TelephonyOutbound => "telephony_outbound",
            Self::TelephonyInbound => "telephony_inbound",
            Self::Webcall => "webcall",
        }
    }

    /// The `conversation_type` variable (R154) and the webhook bodies'
    /// `conversationType` (R147): `telephonyOutbound`, `telephonyInbound`
    /// or, the mock's choice for web sessions, `webcall`.
    pub fn conversation_type(self) -> &'static str {
        match self {
            Self::TelephonyOutbound => "telephonyOutbound",
            Self::TelephonyInbound => "telephonyInbound",
            Self::Webcall => "webcall",
        }
    }
}

/// One transcript line (R115, R153).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// `agent` or `user`.
    #[serde(deserialize_with = "crate::domain::static_names::role")]
    pub role: crate::domain::static_names::Name,
    /// What was said.
    pub content: String,
    /// When the turn began (speech start), epoch ms (R153).
    pub at: Millis,
}

/// The call record: everything the call log and webhooks show.
///
/// Serializable for state snapshots (`crate::store::calls`): the scenario
/// is written as its name and resolved against the snapshot's scenario
/// table on restore.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    /// 24-hex record id (`_id`).
    pub id: String,
    /// `CALL-<ms>-<hex6>` (R013).
    pub call_id: String,
    /// 22-character web-session id (web sessions and test calls only).
    pub conversation_id: Option<String>,
    /// Agent id.
    pub agent_id: String,
    /// Call type.
    pub call_type: CallType,
    /// Status.
    pub status: CallStatus,
    /// Caller number (E.164), absent for web sessions.
    pub from: Option<String>,
    /// Callee number (E.164), absent for web sessions.
    pub to: Option<String>,
    /// Resolved variables: the 11 standard keys, `defaultVariables`, then
    /// the call's own (R154).
    pub variables: Map<String, Value>,
    /// The config version the call runs.
    pub version_id: String,
    /// Its number.
    pub version_number: u32,
    /// The config the call runs (a snapshot).
    pub config: Config,
    /// `x-test-call` or a test-call operation (R107).
    pub is_test: bool,
    /// The scenario it runs.
    #[serde(with = "scenario_name")]
    pub scenario: Arc<Scenario>,
    /// Created, epoch ms.
    pub created_at: Millis,
    /// Last change, epoch ms.
    pub updated_at: Millis,
    /// Dispatched (ringing or connecting), epoch ms.
    pub started_at: Option<Millis>,
    /// Answered, epoch ms.
    pub connected_at: Option<Millis>,
    /// Ended, epoch ms.
    pub ended_at: Option<Millis>,
    /// `disconnectionReason`.
    pub disconnect_reason: Option<String>,
    /// `callFailureReason`.
    pub failure_reason: Option<String>,
    /// Transcript, in spoken order.
    pub transcript: Vec<Line>,
    /// Turn transitions (ms from connect).
    pub transitions: Vec<Transition>,
    /// Post-call analytics once ready (`None` before, or when invalid).
    pub analytics: Option<CallAnalytics>,
    /// When analytics were processed, epoch ms.
    pub analytics_at: Option<Millis>,
    /// `callCost`.
    pub cost: f64,
    /// Child retry call (R121).
    pub retry_call_id: Option<String>,
    /// 0 for the first attempt.
    pub retry_attempt_number: u32,
    /// Attempts in the family so far.
    pub retry_count: u32,
    /// The first call of the retry family.
    pub root_call_id: Option<String>,
    /// Campaign that placed the call.
    pub campaign_id: Option<String>,
    /// A chat session (text only; logged as `webcall`, L-E4).
    pub chat: bool,
    /// The Do-Not-Call entry that kept the call from being dialled (its
    /// id), if one did (`crate::domain::dnc`).
    pub blocked_by: Option<String>,
    /// The call actions that ran for it: the trigger that placed it, the
    /// post-call actions that fired after it ended.
    pub call_actions: Vec<Run>,
}

impl Call {
    /// The concurrency channel the call competes in (CONC "per call
    /// type"): outbound and inbound telephony, chat, or webcall.
    pub fn channel(&self) -> Channel {
        match self.call_type {
            CallType::TelephonyOutbound => Channel::Outbound,
            CallType::TelephonyInbound => Channel::Inbound,
            CallType::Webcall if self.chat => Channel::Chat,
            CallType::Webcall => Channel::Webcall,
        }
    }

    /// Talk time in ms (connect to end), 0 if it never connected.
    pub fn duration_ms(&self) -> u64 {
        match (self.connected_at, self.ended_at) {
            (Some(c), Some(e)) => u64::try_from(e - c).unwrap_or(0),
            _ => 0,
        }
    }

    /// Mean turn latency in ms (0 without turns), as in
    /// `turnLatencyMetrics.avgLatency`.
    pub fn avg_latency_ms(&self) -> f64 {
        let n = self.transitions.len();
        if n == 0 {
            return 0.0;
        }
        self.transitions.iter().map(|t| (t.bot_start - t.user_end) as f64).sum::<f64>() / n as f64
    }

    /// Records a call that has not ended as interrupted at `now` (epoch
    /// ms): `failed`, `system_error` (R110), with the scenario's cost if it
    /// had connected, as the engine ends calls. Ended calls are unchanged.
    /// Returns whether it changed.
    pub fn interrupt(&mut self, now: Millis) -> bool {
        if self.status.is_terminal() {
            return false;
        }
        self.status = CallStatus::Failed;
        self.ended_at = Some(now);
        self.updated_at = now;
        self.disconnect_reason = Some(crate::domain::call::INTERRUPTED_REASON.into());
        self.failure_reason = Some(crate::domain::call::INTERRUPTED_FAILURE.into());
        self.cost = if self.connected_at.is_some() { self.scenario.cost } else { 0.0 };
        true
    }

    /// Approximate bytes the record holds (`domain::call_budget` CB2): the
    /// struct, its strings, variables, transcript, transitions, analytics
    /// and call actions. The config and the scenario are shared, not
    /// counted. An estimate, computed when the call ends.
    pub fn bytes(&self) -> usize {
        use std::mem::size_of;
        const ENTRY: usize = 64; // a map entry's or a heap block's bookkeeping
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let strings =
            [&self.id, &self.call_id, &self.agent_id, &self.version_id].iter().map(|s| s.len()).sum::<usize>()
                + [
                    &self.conversation_id,
                    &self.from,
                    &self.to,
                    &self.disconnect_reason,
                    &self.failure_reason,
                    &self.retry_call_id,
                    &self.root_call_id,
                    &self.campaign_id,
                    &self.blocked_by,
                ]
                .into_iter()
                .map(opt)
                .sum::<usize>();
        let variables: usize = self.variables.iter().map(|(k, v)| k.len() + v.to_string().len() + ENTRY).sum();
        let transcript: usize = self.transcript.iter().map(|l| l.content.len() + size_of::<Line>()).sum();
        let analytics = self.analytics.as_ref().map_or(0, |a| {
            a.summary.len() + (a.metrics.len() + a.success_metrics.len()) * 2 * ENTRY + size_of::<CallAnalytics>()
        });
        size_of::<Self>()
            + strings
            + variables
            + transcript
            + self.transitions.len() * size_of::<Transition>()
            + analytics
            + self.call_actions.len() * size_of::<Run>()
    }

    /// Recording length in ms; `None` without a recording (R116).
    pub fn recording_ms(&self) -> Option<u64> {
        self.connected_at?;
        self.ended_at?;
        let secs = self.scenario.recording_seconds;
        Some(secs.map_or_else(|| self.duration_ms(), |s| (s * 1000.0).round() as u64))
    }
}

/// A call's scenario as its name: read back as [`Scenario::placeholder`],
/// which the snapshot's restore replaces with the scenario it names.
mod scenario_name {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serializer};

    use crate::scenarios::Scenario;

    pub(super) fn serialize<S: Serializer>(s: &Arc<Scenario>, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(&s.name)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Scenario>, D::Error> {
        Ok(Arc::new(Scenario::placeholder(String::deserialize(d)?)))
    }
}

/// Which config a call runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// The agent's active version.
    Active,
    /// A published version (R106).
    Version(String),
    /// An open draft (draft test calls, R063).
    Draft(String),
    /// A v2 branch's open draft, by branch id (R096).
    BranchDraft(String),
}

/// A call to place, before the agent is looked up.
#[derive(Debug, Clone)]
pub struct CallRequest {
    /// The agent (24 hex, already well-formed).
    pub agent_id: String,
    /// Which of its configs to run.
    pub pin: Pin,
    /// Telephony or web session.
    pub call_type: CallType,
    /// Caller number (E.164), if any.
    pub from: Option<String>,
    /// Callee number (E.164), if any.
    pub to: Option<String>,
    /// The call's own variables (scalars, R103).
    pub variables: Map<String, Value>,
    /// A test call (R107).
    pub is_test: bool,
    /// The 22-character web-session id, for web sessions and test calls.
    pub conversation_id: Option<String>,
    /// A chat session (a `webcall` that competes for chat slots).
    pub chat: bool,
}

/// What ties a call to a campaign: the campaign id and the attempt it
/// retries (R121). Empty for calls placed through the API.
#[derive(Debug, Clone, Default)]
pub struct CallLink {
    /// The campaign that placed the call.
    pub campaign_id: Option<String>,
    /// The call this one retries.
    pub retry_of: Option<String>,
}

/// A call ready to be created: what was asked for and what it resolved
/// to (the config version it runs and its scenario).
#[derive(Debug, Clone)]
pub struct NewCall {
    /// The agent, numbers, variables and flags asked for. Its `pin` has
    /// done its work once `config` is resolved (a retry names the parent's
    /// `version_id` there); nothing reads it afterwards.
    pub request: CallRequest,
    /// The campaign and the attempt it retries, if any.
    pub link: CallLink,
    /// Version id of `config`.
    pub version_id: String,
    /// Its number.
    pub version_number: u32,
    /// The config to run.
    pub config: Config,
    /// Scenario.
    pub scenario: Arc<Scenario>,
}

#[cfg(test)]
impl NewCall {
    /// An outbound call of `agent` to `+15551230000` with the default
    /// config, running the `happy-path` scenario (tests).
    pub(crate) fn sample(agent: &str) -> Self {
        Self {
            request: CallRequest {
                agent_id: agent.into(),
                pin: Pin::Active,
                call_type: CallType::TelephonyOutbound,
                from: None,
                to: Some("+15551230000".into()),
                variables: Map::new(),
                is_test: false,
                conversation_id: None,
                chat: false,
            },
            link: CallLink::default(),
            version_id: String::new(),
            version_number: 1,
            config: Config::default(),
            scenario: crate::scenarios::Library::load(None).expect("scenarios").get("happy-path").expect("happy-path"),
        }
    }
}
impl Call {
    /// A new `pending` call record for `new` at `now` (epoch ms), its
    /// variables resolved (R154). `record_id` is the 24-hex `_id`,
    /// `call_id` the `CALL-…` id (R013).
    pub fn new(new: NewCall, record_id: String, call_id: String, now: Millis) -> Self {
        let variables = variables::resolve(&new, &call_id, now);
        let NewCall { request: req, link, version_id, version_number, config, scenario } = new;
        Self {
            id: record_id,
            call_id,
            conversation_id: req.conversation_id,
            agent_id: req.agent_id,
            call_type: req.call_type,
            status: CallStatus::Pending,
            from: req.from,
            to: req.to,
            variables,
            version_id,
            version_number,
            config,
            is_test: req.is_test,
            scenario,
            created_at: now,
            updated_at: now,
            started_at: None,
            connected_at: None,
            ended_at: None,
            disconnect_reason: None,
            failure_reason: None,
            transcript: Vec::new(),
            transitions: Vec::new(),
            analytics: None,
            analytics_at: None,
            cost: 0.0,
            retry_call_id: None,
            retry_attempt_number: 0,
            retry_count: 1,
            root_call_id: None,
            campaign_id: link.campaign_id,
            chat: req.chat,
            blocked_by: None,
            call_actions: Vec::new(),
        }
    }
}
