//! The scenario file format: what one call says and does, turn by turn.
//!
//! A scenario is a JSON file in `fixtures/scenarios/` (or `--fixtures
//! DIR/scenarios/`). Unknown fields are rejected, so a typo is a startup
//! error naming the file and the field. All times are milliseconds unless
//! the name says seconds.
//!
//! ```json
//! {
//!   "name": "happy-path",
//!   "description": "Single-prompt call that books an appointment.",
//!   "outcome": "completed",
//!   "disconnectReason": "user_hangup",
//!   "ringSeconds": 2,
//!   "turns": [
//!     {"agent": {}},
//!     {"user": {"text": "I'd like to book for Friday", "afterMs": 400}},
//!     {"agent": {"text": "Friday works, {{customer_name}}.", "latency": {"llmMs": 420}}},
//!     {"log": {"level": "info", "message": "slot reserved"}}
//!   ],
//!   "analytics": {"summary": "Booked Friday.", "dispositionMetrics": {"call_resolved": {"value": true}}},
//!   "cost": 0.42,
//!   "optOut": {"scope": "agent"}
//! }
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::dnc::OptOutScope;

/// How the call ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered and talked through; status `completed`.
    Completed,
    /// Rang out; status `no_answer`, reason `dial_no_answer`.
    NoAnswer,
    /// Callee busy; status `failed`, `callFailureReason` `busy`.
    Busy,
    /// Could not connect; status `failed`, reason `connection_error`.
    Failed,
    /// Cancelled by the user after the turns; status `cancelled`.
    Cancelled,
}

/// A complete call script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Unique name, used to assign the scenario (`[a-z0-9_-]+`).
    pub name: String,
    /// What the scenario is for.
    #[serde(default)]
    pub description: String,
    /// How the call ends.
    pub outcome: Outcome,
    /// `disconnectionReason` on the call log; defaults by outcome
    /// (`user_hangup`, `dial_no_answer`, `connection_error`).
    #[serde(default)]
    pub disconnect_reason: Option<String>,
    /// Seconds of ringing before the call connects or gives up (telephony
    /// only; web sessions connect at once). Default 2.
    #[serde(default = "default_ring")]
    pub ring_seconds: f64,
    /// The conversation, in order. Only `completed` and `cancelled`
    /// scenarios may have turns.
    #[serde(default)]
    pub turns: Vec<Step>,
    /// Post-call analytics.
    #[serde(default)]
    pub analytics: Analytics,
    /// Recording length override, seconds; default: the talk time.
    #[serde(default)]
    pub recording_seconds: Option<f64>,
    /// `callCost`; default 0.
    #[serde(default)]
    pub cost: f64,
    /// `telephony_id` of `call_start`; default derived from the call id.
    #[serde(default)]
    pub telephony_id: Option<String>,
    /// The customer opts out at the end of the script: their number goes
    /// on the organization's Do-Not-Call list (source `call_outcome`),
    /// and later calls to it are not dialled. Connected outcomes only
    /// (`completed`, `cancelled`); a call cancelled through the API before
    /// its script ends does not opt out.
    #[serde(default)]
    pub opt_out: Option<OptOut>,
}

/// An opt-out at the end of a call (`optOut`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OptOut {
    /// `agent` (default): the call's agent may not call the number again;
    /// `organization`: no agent of the organization may.
    #[serde(default)]
    pub scope: OptOutScope,
}

fn default_ring() -> f64 {
    2.0
}

/// One step of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Step {
    /// The agent speaks.
    Agent(AgentTurn),
    /// The user speaks.
    User(UserTurn),
    /// A workflow node becomes active (`agent_node_state`).
    Node(NodeState),
    /// A workflow hop (`hopping`).
    Hop(Hop),
    /// An `agent_log` entry.
    Log(LogEntry),
    /// An `agent_error` entry.
    Error(ErrorEntry),
    /// Silence.
    Pause(Pause),
    /// The agent calls a client tool the realtime session declared (LIVE
    /// W1). Client tools exist only on the WebSocket, so scripted
    /// (telephony, webcall, chat) calls skip this step.
    ToolCall(ToolCallStep),
}

/// Per-turn latency breakdown, milliseconds (`turn_latency` event).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Latency {
    /// Speech-to-text.
    pub stt_ms: u64,
    /// Smart-turn decision.
    pub smart_turn_ms: u64,
    /// LLM time to first token.
    pub llm_ms: u64,
    /// TTS time to first audio.
    pub tts_ms: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Self { stt_ms: 180, smart_turn_ms: 0, llm_ms: 420, tts_ms: 210 }
    }
}

impl Latency {
    /// Total turn latency: user end to agent audio start.
    pub fn total(&self) -> u64 {
        self.stt_ms + self.smart_turn_ms + self.llm_ms + self.tts_ms
    }
}

/// LLM token usage of one agent turn (`metrics` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tokens {
    /// Prompt tokens.
    pub prompt: u64,
    /// Completion tokens.
    pub completion: u64,
}

/// An agent turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentTurn {
    /// What the agent says (TTS text). `{{variable}}` placeholders are
    /// filled from the call's variables and the agent's
    /// `defaultVariables`. Absent: the agent's `firstMessage`.
    #[serde(default)]
    pub text: Option<String>,
    /// LLM output if it differs from the spoken text.
    #[serde(default)]
    pub llm_text: Option<String>,
    /// Delay before the turn starts, ms (default 0).
    #[serde(default)]
    pub after_ms: u64,
    /// Latency breakdown; its total is the wait before audio starts.
    #[serde(default)]
    pub latency: Latency,
    /// How long the speech lasts, ms (default 60 ms per character, at
    /// least 400).
    #[serde(default)]
    pub tts_duration_ms: Option<u64>,
    /// The user barges in this many ms into the speech; the spoken text
    /// is cut proportionally and the turn is marked `interrupted`.
    #[serde(default)]
    pub interrupted_after_ms: Option<u64>,
    /// Token usage (default: 12 × words prompt, 2 × words completion).
    #[serde(default)]
    pub tokens: Option<Tokens>,
    /// Answer from the knowledge bases attached to the agent's config: the
    /// agent says the passage that best matches the caller's last turn
    /// (`domain::knowledge_base::matcher`), after a `knowledgebase` event;
    /// with no match it says `text`, else
    /// [`timeline::NO_KNOWLEDGE_ANSWER`](super::timeline::NO_KNOWLEDGE_ANSWER).
    #[serde(default)]
    pub from_knowledge_base: bool,
}

/// A user turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserTurn {
    /// Final transcript.
    pub text: String,
    /// Interim transcripts; default: growing word prefixes.
    #[serde(default)]
    pub interims: Option<Vec<String>>,
    /// Delay before the user starts speaking, ms (default 300).
    #[serde(default)]
    pub after_ms: Option<u64>,
    /// Speaking time, ms (default 300 per word, at least 500).
    #[serde(default)]
    pub duration_ms: Option<u64>,
}

/// A workflow node state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeState {
    /// `node_id`.
    pub id: String,
    /// `node_name`.
    pub name: String,
    /// `node_type` (default `default`).
    #[serde(default)]
    pub node_type: Option<String>,
    /// `context` object.
    #[serde(default)]
    pub context: Map<String, Value>,
    /// Delay, ms.
    #[serde(default)]
    pub after_ms: u64,
}

/// A workflow hop between nodes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hop {
    /// `from_node_id`.
    pub from: String,
    /// `to_node_id`.
    pub to: String,
    /// Delay, ms.
    #[serde(default)]
    pub after_ms: u64,
}

/// An `agent_log` entry (changelog 2026-05-20).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogEntry {
    /// Severity: `debug`, `info`, `warning` or `error` (default `info`).
    #[serde(default)]
    pub level: Option<String>,
    /// Message.
    pub message: String,
    /// Optional tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Delay, ms.
    #[serde(default)]
    pub after_ms: u64,
}

/// An `agent_error` entry (changelog 2026-05-20).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorEntry {
    /// Error code.
    pub code: String,
    /// Message.
    pub message: String,
    /// Optional details.
    #[serde(default)]
    pub details: Option<Value>,
    /// Delay, ms.
    #[serde(default)]
    pub after_ms: u64,
}

/// A client-tool call of a realtime session (LIVE W1). The agent sends
/// `function_call {call_id, name, arguments}` and, unless the tool was
/// declared with `expectsResponse: false`, waits for the result (at most
/// the tool's `timeout_ms`) before the next step. The next agent turn can
/// quote the result: `{{tool_output}}` is the output string and
/// `{{tool_output.<key>}}` a top-level field of a JSON-object output; an
/// agent turn without `text` answers with the output itself. A tool the
/// session did not declare is skipped (an `agent_log` warning says so).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolCallStep {
    /// The declared tool to call; absent: the first declared tool.
    #[serde(default)]
    pub name: Option<String>,
    /// Argument values, merged over the arguments generated from the
    /// tool's `parameters`; the result must validate against them.
    #[serde(default)]
    pub arguments: Option<Map<String, Value>>,
    /// Delay before the call, ms (default 0).
    #[serde(default)]
    pub after_ms: u64,
}

/// Silence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pause {
    /// Length, ms.
    pub ms: u64,
}

/// Post-call analytics of the scenario (BEHAVIOR §K).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Analytics {
    /// Seconds after the call ends until analytics are ready (R122:
    /// typically 10–30 s; default 15).
    pub delay_seconds: f64,
    /// Call summary.
    pub summary: String,
    /// Values by disposition-metric identifier. Metrics the agent
    /// configures but the scenario omits get a type-correct default.
    pub disposition_metrics: Map<String, Value>,
}

impl Default for Analytics {
    fn default() -> Self {
        Self { delay_seconds: 15.0, summary: String::new(), disposition_metrics: Map::new() }
    }
}

/// One metric value: either a bare value or `{value, confidence,
/// reasoning}`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// Typed value.
    pub value: Value,
    /// 0–1 (default 0.9).
    pub confidence: f64,
    /// Why (default "").
    pub reasoning: String,
}

impl MetricValue {
    /// Reads a metric entry of [`Analytics::disposition_metrics`].
    pub fn from_json(v: &Value) -> Self {
        match v {
            Value::Object(o) if o.contains_key("value") => Self {
                value: o.get("value").cloned().unwrap_or(Value::Null),
                confidence: o.get("confidence").and_then(Value::as_f64).unwrap_or(0.9),
                reasoning: o.get("reasoning").and_then(Value::as_str).unwrap_or_default().to_string(),
            },
            other => Self { value: other.clone(), confidence: 0.9, reasoning: String::new() },
        }
    }
}

impl Scenario {
    /// A stand-in that only carries `name`: what a call record reads back
    /// from a snapshot until the snapshot's scenario table replaces it.
    pub fn placeholder(name: String) -> Self {
        Self {
            name,
            description: String::new(),
            outcome: Outcome::Completed,
            disconnect_reason: None,
            ring_seconds: default_ring(),
            turns: Vec::new(),
            analytics: Analytics::default(),
            recording_seconds: None,
            cost: 0.0,
            telephony_id: None,
            opt_out: None,
        }
    }

    /// Whether an agent turn answers from the knowledge base (the engine
    /// then looks the attached knowledge bases up when the call connects).
    pub fn answers_from_knowledge(&self) -> bool {
        self.turns.iter().any(|s| matches!(s, Step::Agent(a) if a.from_knowledge_base))
    }

    /// Checks the rules serde cannot: name shape, turns only on connected
    /// outcomes, non-negative seconds, user text present. The error is
    /// `<field>: <problem>`.
    pub fn validate(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return Err("name: use lowercase letters, digits, '-' and '_'".into());
        }
        if !(0.0..=120.0).contains(&self.ring_seconds) {
            return Err("ringSeconds: must be between 0 and 120".into());
        }
        if !(0.0..=3600.0).contains(&self.analytics.delay_seconds) {
            return Err("analytics.delaySeconds: must be between 0 and 3600".into());
        }
        if self.recording_seconds.is_some_and(|r| !(0.0..=7200.0).contains(&r)) {
            return Err("recordingSeconds: must be between 0 and 7200".into());
        }
        let connected = matches!(self.outcome, Outcome::Completed | Outcome::Cancelled);
        if !connected && !self.turns.is_empty() {
            return Err("turns: only completed or cancelled calls have turns".into());
        }
        if !connected && self.opt_out.is_some() {
            return Err("optOut: only completed or cancelled calls can opt out".into());
        }
        for (i, step) in self.turns.iter().enumerate() {
            match step {
                Step::User(u) if u.text.trim().is_empty() => {
                    return Err(format!("turns[{i}].user.text: must not be empty"))
                }
                Step::Agent(a) if a.interrupted_after_ms == Some(0) => {
                    return Err(format!("turns[{i}].agent.interruptedAfterMs: must be > 0"))
                }
                Step::ToolCall(t)
                    if t.name.as_deref().is_some_and(|n| !crate::domain::client_tool::is_tool_name(n)) =>
                {
                    return Err(format!("turns[{i}].toolCall.name: must match ^[A-Za-z0-9_-]{{1,64}}$"))
                }
                _ => {}
            }
        }
        Ok(())
    }
}
