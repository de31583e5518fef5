//! Wire messages of the agent WebSocket (AsyncAPI
//! `atoms-agent-ws.asyncapi.yaml`, R197–R213, plus the client-tools
//! messages of LIVE W1) and the PCM16 helpers.
//!
//! Every frame is a JSON text frame; audio travels as base64 of raw PCM
//! 16-bit signed little-endian mono at the negotiated rate (R199).
//! Server frames carry exactly the fields of their schema (`interruption`
//! has none besides `type`, R209). The mock's own AsyncAPI document,
//! `asyncapi/atoms-mock-ws.yaml`, describes every message here, and a test
//! checks it against [`CLIENT_TYPES`], [`SERVER_TYPES`] and recorded frames.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::Millis;

/// Whose turn a transcript belongs to (R207).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The caller.
    User,
    /// The agent.
    Assistant,
}

/// Why a session ended (R203–R205).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The client sent `session.close`.
    ClientRequested,
    /// The socket dropped without `session.close` (no frame is sent).
    WebsocketClosed,
    /// The scenario finished, or the call was ended elsewhere.
    Ended,
}

/// A server → client frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum ServerFrame {
    /// First frame of a session (R197); `session_id` is a UUID, `call_id`
    /// the call log's `CALL-…`, `sample_rate` Hz for both directions,
    /// `channels` always 1.
    #[serde(rename = "session.created")]
    SessionCreated {
        /// Session UUID.
        session_id: String,
        /// `CALL-<ms>-<hex6>`.
        call_id: String,
        /// Negotiated rate, Hz.
        sample_rate: u32,
        /// Always 1.
        channels: u8,
    },
    /// The session ended; the socket closes with 1000 next (R203, R205).
    #[serde(rename = "session.closed")]
    SessionClosed {
        /// Why.
        reason: CloseReason,
    },
    /// One chunk of agent audio (webcall only, R206): base64 PCM16 LE mono.
    #[serde(rename = "output_audio.delta")]
    OutputAudioDelta {
        /// Base64 audio.
        audio: String,
    },
    /// The final text of a turn (R206, R208).
    #[serde(rename = "transcript")]
    Transcript {
        /// Whose turn.
        role: Role,
        /// What was said (assistant: what was heard).
        text: String,
    },
    /// The cumulative text of the turn so far (R207).
    #[serde(rename = "transcript.delta")]
    TranscriptDelta {
        /// Whose turn.
        role: Role,
        /// Text so far.
        text: String,
    },
    /// The agent's turn starts; before its first audio (R206).
    #[serde(rename = "agent_start_talking")]
    AgentStartTalking {
        /// ISO-8601 UTC with microseconds.
        timestamp: String,
    },
    /// The agent's turn ended (R206).
    #[serde(rename = "agent_stop_talking")]
    AgentStopTalking {
        /// ISO-8601 UTC with microseconds.
        timestamp: String,
    },
    /// The user barged in (R209).
    #[serde(rename = "interruption")]
    Interruption,
    /// The runtime client tools were replaced (LIVE W1): the accepted
    /// names, in declaration order.
    #[serde(rename = "session.updated")]
    SessionUpdated {
        /// Accepted tool names.
        tools: Vec<String>,
    },
    /// The agent calls a declared client tool (LIVE W1); the client answers
    /// `function_call.result` with the same `call_id` unless the tool was
    /// declared with `expectsResponse: false`.
    #[serde(rename = "function_call")]
    FunctionCall {
        /// `call_<24 hex>`, unique within the session.
        call_id: String,
        /// The declared tool's name.
        name: String,
        /// A JSON object that validates against the tool's `parameters`.
        arguments: Value,
    },
    /// An error (R211): `invalid_event`, `no_session`, `internal_error`,
    /// an HTTP status string for fatal setup failures (R212), or a
    /// client-tools code (LIVE W1): `tool_name_conflict`,
    /// `client_tools_managed_by_config`, `invalid_tools`, `tool_timeout`,
    /// `unknown_call_id`, `result_too_large`.
    #[serde(rename = "error")]
    Error {
        /// Machine-readable code.
        code: String,
        /// Human-readable message.
        message: String,
    },
}

impl ServerFrame {
    /// An `invalid_event` error with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Error { code: "invalid_event".into(), message: message.into() }
    }

    /// The JSON text of the frame.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"type":"error","code":"internal_error","message":""}"#.into())
    }
}

/// A client → server message (R199–R203).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum ClientMessage {
    /// `input_audio_buffer.append {audio}`.
    #[serde(rename = "input_audio_buffer.append")]
    AudioAppend {
        /// Base64 PCM16 LE mono; required.
        #[serde(default)]
        audio: Option<String>,
    },
    /// `input_audio_buffer.commit`: a no-op (R200, L-J4).
    #[serde(rename = "input_audio_buffer.commit")]
    AudioCommit {},
    /// `input_text.send {text}` (R201).
    #[serde(rename = "input_text.send")]
    TextSend {
        /// At least one character.
        #[serde(default)]
        text: Option<String>,
    },
    /// `session.update {tools?}`: with `tools`, declares the runtime client
    /// tools (LIVE W1, superseding R202); without, a no-op.
    #[serde(rename = "session.update")]
    SessionUpdate {
        /// The tool declarations, checked by `realtime::tools::declare`.
        #[serde(default)]
        tools: Option<Value>,
    },
    /// `function_call.result {call_id, output}` (LIVE W1).
    #[serde(rename = "function_call.result")]
    FunctionCallResult {
        /// The `call_id` of the `function_call`.
        #[serde(default)]
        call_id: Option<Value>,
        /// The tool's result, a string (at most 64 KB).
        #[serde(default)]
        output: Option<Value>,
    },
    /// `session.close` (R203).
    #[serde(rename = "session.close")]
    SessionClose {},
}

/// The `type` of every client message, as the mock's AsyncAPI document
/// lists them.
pub const CLIENT_TYPES: [&str; 6] = [
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_text.send",
    "session.update",
    "function_call.result",
    "session.close",
];

/// The `type` of every [`ServerFrame`], as the mock's AsyncAPI document
/// lists them.
pub const SERVER_TYPES: [&str; 11] = [
    "session.created",
    "session.updated",
    "session.closed",
    "output_audio.delta",
    "transcript",
    "transcript.delta",
    "agent_start_talking",
    "agent_stop_talking",
    "interruption",
    "function_call",
    "error",
];

/// A validated client message.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// Decoded PCM16 samples.
    Audio(Vec<i16>),
    /// Non-empty text.
    Text(String),
    /// Accepted, does nothing (`commit`, `session.update` without
    /// `tools`).
    NoOp,
    /// `session.update {tools}`: the raw declarations.
    Tools(Value),
    /// `function_call.result`: a non-empty `call_id` and the `output`
    /// string (its size is checked by the session).
    ToolResult {
        /// The call answered.
        call_id: String,
        /// The result.
        output: String,
    },
    /// `session.close`.
    Close,
}

/// Parses and validates one text frame. `Err` is the `invalid_event`
/// message (R199, R201, R211): malformed JSON, a missing or unknown
/// `type`, wrong field types, missing `audio` (`audio is required`),
/// audio that is not base64 PCM16, missing or empty `text`, a
/// `function_call.result` without a string `call_id` or `output`.
pub fn parse(text: &str) -> Result<Inbound, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))?;
    let kind = v.get("type").and_then(Value::as_str).ok_or("type is required")?.to_string();
    if !CLIENT_TYPES.contains(&kind.as_str()) {
        return Err(format!("unknown event type '{kind}'"));
    }
    let msg: ClientMessage = serde_json::from_value(v).map_err(|e| format!("{kind}: {e}"))?;
    match msg {
        ClientMessage::AudioAppend { audio } => {
            let audio = audio.filter(|a| !a.is_empty()).ok_or("audio is required")?;
            decode_pcm16(&audio).map(Inbound::Audio)
        }
        ClientMessage::TextSend { text } => match text {
            None => Err("text is required".into()),
            Some(t) if t.is_empty() => Err("text must be at least 1 character".into()),
            Some(t) => Ok(Inbound::Text(t)),
        },
        ClientMessage::AudioCommit {} | ClientMessage::SessionUpdate { tools: None } => Ok(Inbound::NoOp),
        ClientMessage::SessionUpdate { tools: Some(tools) } => Ok(Inbound::Tools(tools)),
        ClientMessage::FunctionCallResult { call_id, output } => {
            let call_id = match call_id {
                Some(Value::String(id)) if !id.is_empty() => id,
                None | Some(Value::Null) => return Err("call_id is required".into()),
                Some(_) => return Err("call_id must be a non-empty string".into()),
            };
            match output {
                Some(Value::String(output)) => Ok(Inbound::ToolResult { call_id, output }),
                None | Some(Value::Null) => Err("output is required".into()),
                Some(_) => Err("output must be a string (serialize structured results as JSON text)".into()),
            }
        }
        ClientMessage::SessionClose {} => Ok(Inbound::Close),
    }
}

/// Decodes base64 PCM16 LE into samples; an odd byte count is an error.
pub fn decode_pcm16(b64: &str) -> Result<Vec<i16>, String> {
    let bytes = STANDARD.decode(b64.trim()).map_err(|e| format!("audio must be base64-encoded PCM16: {e}"))?;
    if bytes.len() % 2 != 0 {
        return Err("audio must be PCM16 (16-bit little-endian mono): odd number of bytes".into());
    }
    Ok(bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect())
}

/// Root mean square of `samples`, in PCM16 units (0 for none).
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// Frequency of the agent's synthetic voice, Hz.
pub const TONE_HZ: f64 = 440.0;
/// Its peak amplitude, PCM16 units (about −12 dBFS).
pub const TONE_PEAK: f64 = 8000.0;

/// `n` samples of the agent's tone at `rate` Hz starting at sample
/// `first` (so consecutive chunks join without clicks), base64 PCM16 LE.
pub fn tone_chunk(rate: u32, first: u64, n: u64) -> String {
    let mut bytes = Vec::with_capacity(usize::try_from(n * 2).unwrap_or(0));
    for i in first..first + n {
        let t = i as f64 / f64::from(rate);
        let s = (TONE_PEAK * (std::f64::consts::TAU * TONE_HZ * t).sin()).round() as i16;
        bytes.extend_from_slice(&s.to_le_bytes());
    }
    STANDARD.encode(bytes)
}

/// `ms` as ISO-8601 UTC with microseconds (`2026-01-01T00:00:00.250000Z`),
/// the talking events' timestamp format.
pub fn iso_micros(ms: Millis) -> String {
    let base = crate::domain::time::iso(ms);
    format!("{}000Z", base.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse_and_bad_ones_name_the_problem() {
        assert_eq!(parse(r#"{"type":"session.close"}"#), Ok(Inbound::Close));
        assert_eq!(parse(r#"{"type":"session.update","x":1}"#), Ok(Inbound::NoOp));
        assert_eq!(parse(r#"{"type":"session.update","tools":[]}"#), Ok(Inbound::Tools(serde_json::json!([]))));
        assert_eq!(
            parse(r#"{"type":"function_call.result","call_id":"call_1","output":"{}"}"#),
            Ok(Inbound::ToolResult { call_id: "call_1".into(), output: "{}".into() })
        );
        assert_eq!(parse(r#"{"type":"function_call.result","output":"x"}"#), Err("call_id is required".into()));
        assert!(
            parse(r#"{"type":"function_call.result","call_id":"c","output":{}}"#).is_err_and(|e| e.contains("string"))
        );
        assert_eq!(parse(r#"{"type":"input_text.send","text":"hi"}"#), Ok(Inbound::Text("hi".into())));
        assert_eq!(parse(r#"{"type":"input_audio_buffer.append","audio":"AAABAA=="}"#), Ok(Inbound::Audio(vec![0, 1])));
        assert_eq!(parse(r#"{"type":"input_audio_buffer.append"}"#), Err("audio is required".into()));
        assert!(parse(r#"{"type":"input_audio_buffer.append","audio":"AAAA"}"#).is_err_and(|e| e.contains("odd")));
        assert!(parse(r#"{"type":"input_text.send","text":""}"#).is_err());
        assert!(parse(r#"{"type":"nope"}"#).is_err_and(|e| e.contains("unknown event type")));
        assert!(parse("{").is_err_and(|e| e.starts_with("malformed JSON")));
        assert!(parse(r#"{"type":"input_text.send","text":5}"#).is_err());
    }

    #[test]
    fn server_frames_serialize_with_their_type_and_nothing_else() {
        assert_eq!(ServerFrame::Interruption.to_json(), r#"{"type":"interruption"}"#);
        let closed = ServerFrame::SessionClosed { reason: CloseReason::ClientRequested }.to_json();
        assert_eq!(closed, r#"{"type":"session.closed","reason":"client_requested"}"#);
        let t = ServerFrame::Transcript { role: Role::Assistant, text: "hi".into() }.to_json();
        assert_eq!(t, r#"{"type":"transcript","role":"assistant","text":"hi"}"#);
        let call = ServerFrame::FunctionCall { call_id: "call_1".into(), name: "f".into(), arguments: Value::Null };
        assert_eq!(call.to_json(), r#"{"type":"function_call","call_id":"call_1","name":"f","arguments":null}"#);
    }

    /// Every variant's `type` is listed in [`SERVER_TYPES`] (the match has
    /// no wildcard, so a new variant must be added here and to the list).
    #[test]
    fn server_types_lists_every_frame() {
        let all = [
            ServerFrame::SessionCreated {
                session_id: String::new(),
                call_id: String::new(),
                sample_rate: 0,
                channels: 1,
            },
            ServerFrame::SessionUpdated { tools: Vec::new() },
            ServerFrame::SessionClosed { reason: CloseReason::Ended },
            ServerFrame::OutputAudioDelta { audio: String::new() },
            ServerFrame::Transcript { role: Role::User, text: String::new() },
            ServerFrame::TranscriptDelta { role: Role::User, text: String::new() },
            ServerFrame::AgentStartTalking { timestamp: String::new() },
            ServerFrame::AgentStopTalking { timestamp: String::new() },
            ServerFrame::Interruption,
            ServerFrame::FunctionCall { call_id: String::new(), name: String::new(), arguments: Value::Null },
            ServerFrame::invalid(""),
        ];
        for f in &all {
            match f {
                ServerFrame::SessionCreated { .. }
                | ServerFrame::SessionUpdated { .. }
                | ServerFrame::SessionClosed { .. }
                | ServerFrame::OutputAudioDelta { .. }
                | ServerFrame::Transcript { .. }
                | ServerFrame::TranscriptDelta { .. }
                | ServerFrame::AgentStartTalking { .. }
                | ServerFrame::AgentStopTalking { .. }
                | ServerFrame::Interruption
                | ServerFrame::FunctionCall { .. }
                | ServerFrame::Error { .. } => {}
            }
        }
        let kinds: Vec<String> = all
            .iter()
            .map(|f| serde_json::from_str::<Value>(&f.to_json()).map(|v| v["type"].to_string()).unwrap_or_default())
            .collect();
        let listed: Vec<String> = SERVER_TYPES.iter().map(|t| format!("\"{t}\"")).collect();
        assert_eq!(kinds, listed);
    }

    #[test]
    fn the_tone_decodes_to_the_requested_samples_and_counts_as_speech() {
        let pcm = decode_pcm16(&tone_chunk(24000, 0, 960)).expect("decodes");
        assert_eq!(pcm.len(), 960);
        assert!(rms(&pcm) > SPEECH_RMS_FOR_TEST);
        assert_eq!(rms(&[0; 10]), 0.0);
        assert_eq!(iso_micros(1_767_225_600_250), "2026-01-01T00:00:00.250000Z");
    }

    const SPEECH_RMS_FOR_TEST: f64 = super::super::SPEECH_RMS;
}
