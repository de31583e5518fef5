//! The two per-call operations of the tag: `call-counts-log` (a page of
//! ended calls, newest first) and `conversation-details/{callId}` (one
//! call's transcript and events).
//!
//! Decided here: a value the call does not have (campaign, numbers,
//! disconnect reason, recording) is left out of the row rather than sent as
//! `null`, since the spec types these fields as plain strings. `source` is
//! `campaign`, `test`, `inbound`, `webcall` or `api`, in that order of
//! precedence. `callType` uses the analytics names (`outbound`, `inbound`,
//! `webcall`).

use serde::Serialize;

use super::facts::{CallFacts, CallKind};
use super::index::{Row, Source};
use super::params::Scope;
use crate::domain::ids::is_call_id;
use crate::domain::time::iso;
use crate::domain::{DomainError, Millis};

/// 400 of `conversation-details` for a value that is not a call id (the
/// message of R116's download URL).
pub const INVALID_CALL_ID: &str = "Invalid call ID format";
/// 404 of `conversation-details`: unknown call, or another organization's
/// (the spec describes the case without quoting a message).
pub const CALL_NOT_FOUND: &str = "Call log not found";

/// Checks the `callId` path segment.
pub fn check_call_id(call_id: &str) -> Result<(), DomainError> {
    if is_call_id(call_id) {
        Ok(())
    } else {
        Err(DomainError::invalid(INVALID_CALL_ID))
    }
}

/// One page of the calls `scope` admits, newest first (ties by call id,
/// descending), and how many there are in all. The handler renders each
/// with [`log_row`] from the call's record.
pub fn page<'a>(src: &'a dyn Source, scope: &Scope, page: usize, limit: usize) -> (Vec<&'a Row>, usize) {
    let rows = src.rows(&scope.filter, scope.range);
    let total = rows.len();
    let skip = page.saturating_sub(1).saturating_mul(limit);
    (rows.into_iter().rev().skip(skip).take(limit).collect(), total)
}

/// What a log row shows that the facts do not hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowContext<'a> {
    /// The organization id.
    pub org_id: &'a str,
    /// The agent's name.
    pub agent_name: &'a str,
    /// The campaign's name, if the call has a campaign.
    pub campaign_name: Option<&'a str>,
    /// The recording's URL, if there is one.
    pub recording_url: Option<&'a str>,
}

/// One call of `call-counts-log`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRow {
    /// The organization.
    pub org_id: String,
    /// Call id.
    pub call_id: String,
    /// Agent id.
    pub agent_id: String,
    /// Agent name.
    pub agent_name: String,
    /// Campaign id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    /// Campaign name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_name: Option<String>,
    /// `outbound`, `inbound` or `webcall`.
    pub call_type: &'static str,
    /// `createdAt`, ISO 8601.
    pub timestamp: String,
    /// Talk time, ms.
    pub call_duration_ms: u64,
    /// Mean turn latency, ms.
    pub call_latency_ms: f64,
    /// `callCost`, credits.
    pub cost_spent: f64,
    /// `disconnectionReason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnection_reason: Option<String>,
    /// Who placed the call.
    pub source: &'static str,
    /// Recording URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_url: Option<String>,
    /// The call's status.
    pub call_status: &'static str,
    /// Caller number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_number: Option<String>,
    /// Callee number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_number: Option<String>,
}

fn source(f: &CallFacts) -> &'static str {
    match (f.campaign_id.is_some(), f.is_test, f.kind) {
        (true, _, _) => "campaign",
        (false, true, _) => "test",
        (false, false, CallKind::Inbound) => "inbound",
        (false, false, CallKind::Webcall) => "webcall",
        (false, false, CallKind::Outbound) => "api",
    }
}

/// The row of `f`.
pub fn log_row(f: &CallFacts, cx: &RowContext<'_>) -> LogRow {
    LogRow {
        org_id: cx.org_id.into(),
        call_id: f.call_id.clone(),
        agent_id: f.agent_id.clone(),
        agent_name: cx.agent_name.into(),
        campaign_id: f.campaign_id.clone(),
        campaign_name: cx.campaign_name.map(str::to_string),
        call_type: f.kind.as_str(),
        timestamp: iso(f.created_at),
        call_duration_ms: f.duration_ms(),
        call_latency_ms: super::round2(f.avg_latency_ms),
        cost_spent: super::credits(f.cost_micros()),
        disconnection_reason: f.disconnect_reason.clone(),
        source: source(f),
        recording_url: cx.recording_url.map(str::to_string),
        call_status: f.status.as_str(),
        from_number: f.from.clone(),
        to_number: f.to.clone(),
    }
}

/// `data` of `GET /analytics/call-counts-log`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallCountsLog {
    /// The page.
    pub calls: Vec<LogRow>,
    /// Matching calls over all pages.
    pub total_calls: usize,
    /// Pages.
    pub total_pages: usize,
    /// This page (1-based).
    pub current_page: usize,
    /// Page size.
    pub limit: usize,
}

impl CallCountsLog {
    /// The envelope of a page of `calls` out of `total`.
    pub fn new(calls: Vec<LogRow>, total: usize, page: usize, limit: usize) -> Self {
        Self { calls, total_calls: total, total_pages: total.div_ceil(limit.max(1)), current_page: page, limit }
    }
}

/// One transcript line of `conversation-details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Utterance {
    /// `agent` or `user`.
    pub role: String,
    /// What was said.
    pub text: String,
    /// When the turn began, ISO 8601.
    pub timestamp: String,
}

/// One event of `conversation-details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailEvent {
    /// The call event's `event_type` (`call_start`, `user_transcription`, …).
    pub event_type: String,
    /// ISO 8601.
    pub timestamp: String,
}

/// `data` of `GET /analytics/conversation-details/{callId}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDetails {
    /// The organization.
    pub org_id: String,
    /// Call id.
    pub call_id: String,
    /// Agent name.
    pub agent_name: String,
    /// `single_prompt` or `workflow_graph`.
    pub workflow_type: String,
    /// Lines in spoken order.
    pub transcript: Vec<Utterance>,
    /// The call's events in order.
    pub events: Vec<DetailEvent>,
    /// Caller number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_number: Option<String>,
    /// Callee number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_number: Option<String>,
    /// Talk time, ms.
    pub call_duration_ms: u64,
}

/// The details of `f`: `transcript` as `(role, text, began at)` and
/// `events` as `(event_type, at)`, both as the call engine recorded them.
pub fn conversation_details(
    f: &CallFacts,
    cx: &RowContext<'_>,
    workflow_type: &str,
    transcript: &[(&str, &str, Millis)],
    events: &[(&str, Millis)],
) -> ConversationDetails {
    ConversationDetails {
        org_id: cx.org_id.into(),
        call_id: f.call_id.clone(),
        agent_name: cx.agent_name.into(),
        workflow_type: workflow_type.into(),
        transcript: transcript
            .iter()
            .map(|(role, text, at)| Utterance { role: (*role).into(), text: (*text).into(), timestamp: iso(*at) })
            .collect(),
        events: events.iter().map(|(t, at)| DetailEvent { event_type: (*t).into(), timestamp: iso(*at) }).collect(),
        from_number: f.from.clone(),
        to_number: f.to.clone(),
        call_duration_ms: f.duration_ms(),
    }
}
