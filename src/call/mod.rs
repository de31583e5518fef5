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

use serde_json::{Map, Value};

pub mod analytics;
pub mod variables;

use crate::domain::call::CallStatus;
use crate::domain::call_action::Run;
use crate::domain::config::Config;
use crate::domain::Millis;
use crate::scenarios::timeline::Transition;
use crate::scenarios::Scenario;
use analytics::CallAnalytics;

/// Call type (R110).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// One transcript line (R115, R153).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// `agent` or `user`.
    pub role: &'static str,
    /// What was said.
    pub content: String,
    /// When the turn began (speech start), epoch ms (R153).
    pub at: Millis,
}

/// The call record: everything the call log and webhooks show.
#[derive(Debug, Clone)]
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
    /// The call actions that ran for it: the trigger that placed it, the
    /// post-call actions that fired after it ended.
    pub call_actions: Vec<Run>,
}

impl Call {
    /// Talk time in ms (connect to end), 0 if it never connected.
    pub fn duration_ms(&self) -> u64 {
        match (self.connected_at, self.ended_at) {
            (Some(c), Some(e)) => u64::try_from(e - c).unwrap_or(0),
            _ => 0,
        }
    }

    /// Recording length in ms; `None` without a recording (R116).
    pub fn recording_ms(&self) -> Option<u64> {
        self.connected_at?;
        self.ended_at?;
        let secs = self.scenario.recording_seconds;
        Some(secs.map_or_else(|| self.duration_ms(), |s| (s * 1000.0).round() as u64))
    }
}

/// What a caller asks for when placing a call.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// Agent id.
    pub agent_id: String,
    /// Call type.
    pub call_type: CallType,
    /// Caller number.
    pub from: Option<String>,
    /// Callee number.
    pub to: Option<String>,
    /// The call's own variables (scalars).
    pub variables: Map<String, Value>,
    /// Version id of `config`.
    pub version_id: String,
    /// Its number.
    pub version_number: u32,
    /// The config to run.
    pub config: Config,
    /// Test call.
    pub is_test: bool,
    /// Scenario.
    pub scenario: Arc<Scenario>,
    /// Web-session id, if any.
    pub conversation_id: Option<String>,
    /// Campaign.
    pub campaign_id: Option<String>,
    /// The call this one retries.
    pub retry_of: Option<String>,
}

impl Call {
    /// A new `pending` call record for `new` at `now` (epoch ms), its
    /// variables resolved (R154). `record_id` is the 24-hex `_id`,
    /// `call_id` the `CALL-…` id (R013).
    pub fn new(new: NewCall, record_id: String, call_id: String, now: Millis) -> Self {
        let variables = variables::resolve(&new, &call_id, now);
        Self {
            id: record_id,
            call_id,
            conversation_id: new.conversation_id,
            agent_id: new.agent_id,
            call_type: new.call_type,
            status: CallStatus::Pending,
            from: new.from,
            to: new.to,
            variables,
            version_id: new.version_id,
            version_number: new.version_number,
            config: new.config,
            is_test: new.is_test,
            scenario: new.scenario,
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
            campaign_id: new.campaign_id,
            call_actions: Vec::new(),
        }
    }
}
