//! One realtime session's conversation: the scenario's steps played live
//! against the client's audio and text, on the mock's clock.
//!
//! The state machine is driven from outside ([`session`](super::session)):
//! [`Conversation::tick`] fires everything due up to `now` (each at its own
//! deadline, so timestamps do not depend on when the socket task ran);
//! [`Conversation::audio`] and [`Conversation::text`] catch up first, then
//! apply the client's input. Frames collect in an outbox the loop sends.
//!
//! Phases, per scenario step at the cursor:
//! - **agent**: *thinking* for `afterMs` + the latency total (chat mode:
//!   `afterMs` + smart-turn + LLM), then *speaking*: `agent_start_talking`,
//!   one [`CHUNK_MS`] `output_audio.delta` per chunk of audio time, a
//!   cumulative assistant `transcript.delta` whenever a word's share of the
//!   turn's `ttsDurationMs` has gone out, `agent_stop_talking` when the
//!   audio's duration has elapsed, then the final `transcript` (R206). Chat
//!   mode sends only the final `transcript` (R210).
//! - **user**: *listening* (mock VAD, see the module docs of
//!   [`realtime`](super)), or a queued `input_text.send` answers at once.
//! - **node, hop, log, error, pause**: SSE events and delays, as scripted.
//! - **toolCall**: a client-tool call (below).
//! - An agent step with `fromKnowledgeBase` answers, when it starts
//!   thinking, with the best-matching passage of the knowledge bases the
//!   call's config attaches for what the user last said, and writes the
//!   `knowledgebase` SSE event, as a phone call running the same scenario
//!   does (`scenarios::timeline::knowledge_answer`).
//!
//! # Client tools (LIVE W1)
//! See the `tool_calls` submodule: the rules for `function_call`, results, time-outs
//! and the `tool_output` variables.
//!
//! After the last step comes [`END_GRACE_MS`], then `session.closed
//! {reason: ended}` (R205). The call log, SSE events and transcript lines
//! are written through [`LiveCall`] as things happen.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::protocol::{iso_micros, rms, tone_chunk, CloseReason, Role, ServerFrame};
use super::tools::{self, ClientTool, MAX_RESULT_BYTES};
use super::{Mode, CHUNK_MS, END_GRACE_MS, END_SILENCE_MS, SPEECH_RMS};
use crate::calls::{context, Call, CallEnded, LiveCall};
use crate::domain::call::CallStatus;
use crate::domain::config::Config;
use crate::domain::ids::derived_id;
use crate::domain::Millis;
use crate::scenarios::model::{AgentTurn, Outcome, Step, ToolCallStep};
use crate::scenarios::timeline::{self, CallContext};
use crate::scenarios::Scenario;
use crate::store::Tenant;

mod tool_calls;
mod turns;

use turns::Said;

/// Close code after `session.closed` (R213).
pub const CLOSE_NORMAL: u16 = 1000;
/// Close code after a fatal error, with no `session.closed` (R212).
pub const CLOSE_FATAL: u16 = 4000;

type Res = Result<(), CallEnded>;

/// Characters of a tool's output the default answer quotes.
pub const QUOTE_CHARS: usize = 200;
/// What the agent says after a tool call timed out, when nothing else is
/// scripted.
pub const TIMEOUT_ANSWER: &str = "Sorry, I could not get that information in time.";

/// The agent's default answer after a tool returned `output`: "Here is
/// what I found: " and the output with whitespace collapsed, cut to
/// [`QUOTE_CHARS`] characters (then "…"); "Done." for an empty output.
pub fn quote(output: &str) -> String {
    let flat = output.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return "Done.".into();
    }
    let cut: String = flat.chars().take(QUOTE_CHARS).collect();
    let more = if flat.chars().count() > QUOTE_CHARS { "…" } else { "" };
    format!("Here is what I found: {cut}{more}")
}

fn ms(v: u64) -> Millis {
    Millis::try_from(v).unwrap_or(Millis::MAX)
}

/// Owned copy of what the scenario compiler reads from the call.
#[derive(Debug)]
struct Ctx {
    first_message: String,
    variables: Map<String, Value>,
    llm_model: String,
    tts_model: String,
    smart_turn: bool,
}

impl Ctx {
    fn of(call: &Call) -> Self {
        let c = context(call);
        Self {
            first_message: c.first_message.to_string(),
            variables: c.variables.clone(),
            llm_model: c.llm_model.to_string(),
            tts_model: c.tts_model.to_string(),
            smart_turn: c.smart_turn,
        }
    }

    fn get(&self) -> CallContext<'_> {
        CallContext {
            first_message: &self.first_message,
            variables: &self.variables,
            llm_model: &self.llm_model,
            tts_model: &self.tts_model,
            smart_turn: self.smart_turn,
            knowledge: &[],
        }
    }
}

#[derive(Debug)]
struct Listen {
    text: String,
    interims: Vec<String>,
    duration_ms: u64,
    speech_samples: u64,
    silence_samples: u64,
    interims_sent: usize,
    last_delta: Option<String>,
    last_speech_at: Option<Millis>,
}

#[derive(Debug)]
struct Think {
    /// An answer turn the scenario does not list (it consumes no step).
    extra: bool,
    turn: AgentTurn,
    text: String,
    llm_text: String,
    llm_at: Option<Millis>,
    audio_at: Millis,
}

#[derive(Debug)]
struct Speak {
    extra: bool,
    turn: AgentTurn,
    text: String,
    words: Vec<String>,
    start: Millis,
    tts_ms: u64,
    total: u64,
    sent: u64,
    words_sent: usize,
    turn_index: Option<u64>,
}

/// A `function_call` waiting for its result.
#[derive(Debug)]
struct Calling {
    call_id: String,
    tool: String,
    turn_id: String,
    sent_at: Millis,
    deadline: Millis,
    /// A scenario step (the cursor moves past it afterwards).
    step: bool,
    /// The default rule: the answer replaces the next agent turn's text.
    replaces: bool,
}

/// How an issued `call_id` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    Answered,
    TimedOut,
    FireAndForget,
}

/// What the next agent turn says about the last tool call.
#[derive(Debug)]
struct Answer {
    text: String,
    /// The default rule: replaces scripted text that ignores the output.
    replaces: bool,
    /// The call timed out: replaces scripted text that needs the output.
    failed: bool,
}

#[derive(Debug)]
enum Phase {
    Wait(Millis),
    Calling(Calling),
    Listening(Listen),
    Thinking(Think),
    Speaking(Speak),
    Ending(Millis),
    Done,
}

/// The live conversation of one session.
#[derive(Debug)]
pub struct Conversation {
    live: LiveCall,
    mode: Mode,
    rate: u32,
    scenario: Arc<Scenario>,
    ctx: Ctx,
    cursor: usize,
    phase: Phase,
    queued: VecDeque<String>,
    last_user_end: Option<Millis>,
    tone_at: u64,
    out: Vec<ServerFrame>,
    closing: Option<u16>,
    config: Config,
    tools: Vec<ClientTool>,
    settled: HashMap<String, Settled>,
    answer: Option<Answer>,
    calls_made: u64,
    agent_turns: u64,
    /// The organization whose knowledge bases agent steps with
    /// `fromKnowledgeBase` answer from ([`Conversation::with_knowledge`]).
    knowledge: Option<Arc<Tenant>>,
    /// What the user last said or typed.
    last_user_text: String,
}

impl Conversation {
    /// A conversation over `call`'s scenario, in `mode`, with audio at
    /// `rate` Hz. Nothing happens until [`Conversation::begin`].
    pub fn new(live: LiveCall, call: &Call, mode: Mode, rate: u32) -> Self {
        Self {
            live,
            mode,
            rate,
            scenario: Arc::clone(&call.scenario),
            ctx: Ctx::of(call),
            cursor: 0,
            phase: Phase::Done,
            queued: VecDeque::new(),
            last_user_end: None,
            tone_at: 0,
            out: Vec::new(),
            closing: None,
            config: call.config.clone(),
            tools: Vec::new(),
            settled: HashMap::new(),
            answer: None,
            calls_made: 0,
            agent_turns: 0,
            knowledge: None,
            last_user_text: String::new(),
        }
    }

    /// Lets agent steps with `fromKnowledgeBase` answer from `tenant`'s
    /// knowledge bases (those the call's config attaches), read when the
    /// step starts. Kept only when the scenario has such a step.
    pub fn with_knowledge(mut self, tenant: Arc<Tenant>) -> Self {
        if self.scenario.answers_from_knowledge() {
            self.knowledge = Some(tenant);
        }
        self
    }

    /// The answer of an agent step with `fromKnowledgeBase` (see the module
    /// docs) and the `knowledgebase` event's fields; `None` for any other
    /// step.
    fn knowledge_answer(&self, turn: &AgentTurn) -> Option<(Map<String, Value>, String)> {
        if !turn.from_knowledge_base {
            return None;
        }
        let book = self.knowledge.as_ref().map(|t| t.knowledge());
        let sources = book.as_ref().map(|k| k.sources(&self.config)).unwrap_or_default();
        Some(timeline::knowledge_answer(
            turn,
            &self.last_user_text,
            &CallContext { knowledge: &sources, ..self.ctx.get() },
        ))
    }

    /// Starts the first step at `now`. A scenario whose call never connects
    /// (`no_answer`, `busy`, `failed`) is the mock's fatal pipeline failure:
    /// `error {code: "503"}` and close 4000 (R212).
    pub fn begin(&mut self, now: Millis) -> Res {
        if matches!(self.scenario.outcome, Outcome::Completed | Outcome::Cancelled) {
            return self.next_step(now);
        }
        let msg = format!("Agent pipeline unavailable (scenario '{}')", self.scenario.name);
        self.fail(now, "503", &msg);
        Ok(())
    }

    /// Queues `frame` for the client after the frames already produced.
    pub fn reply(&mut self, frame: ServerFrame) {
        self.out.push(frame);
    }

    /// Frames produced since the last call, in order.
    pub fn take_frames(&mut self) -> Vec<ServerFrame> {
        std::mem::take(&mut self.out)
    }

    /// `Some(close code)` once the session is over.
    pub fn closing(&self) -> Option<u16> {
        self.closing
    }

    /// When something is next due (epoch ms), if anything is.
    pub fn deadline(&self) -> Option<Millis> {
        match &self.phase {
            Phase::Wait(at) | Phase::Ending(at) => Some(*at),
            Phase::Calling(c) => Some(c.deadline),
            Phase::Thinking(t) => Some(t.llm_at.unwrap_or(t.audio_at)),
            Phase::Speaking(s) => {
                let per = self.per_chunk();
                Some(if s.sent < s.total { s.start + ms(s.sent / per * CHUNK_MS) } else { s.start + ms(s.tts_ms) })
            }
            Phase::Listening(l) => l.last_speech_at.map(|t| t + ms(END_SILENCE_MS)),
            Phase::Done => None,
        }
    }

    /// Fires everything due at or before `now`, in deadline order.
    pub fn tick(&mut self, now: Millis) -> Res {
        while let Some(at) = self.deadline().filter(|at| *at <= now) {
            self.fire(at)?;
        }
        Ok(())
    }

    /// Client audio (decoded PCM16) received at `now`: ignored in chat
    /// mode; otherwise barge-in and the VAD (see [`super`]).
    pub fn audio(&mut self, samples: &[i16], now: Millis) -> Res {
        if self.mode == Mode::Chat || self.closing.is_some() {
            return Ok(());
        }
        self.tick(now)?;
        let speech = rms(samples) >= SPEECH_RMS;
        if speech && matches!(self.phase, Phase::Speaking(_)) {
            self.barge_in(now)?;
        }
        if matches!(self.phase, Phase::Listening(_)) {
            self.listen(samples, speech, now)?;
        }
        Ok(())
    }

    /// `input_text.send` at `now` (R201): interrupts a talking agent, then
    /// is the user's turn now if the scenario expects one, else later.
    pub fn text(&mut self, text: String, now: Millis) -> Res {
        if self.closing.is_some() {
            return Ok(());
        }
        self.tick(now)?;
        if matches!(self.phase, Phase::Speaking(_)) {
            self.barge_in(now)?;
        }
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Listening(_) => self.commit_user(now, text, Said::Typed),
            p @ (Phase::Ending(_) | Phase::Done) => {
                self.phase = p;
                Ok(())
            }
            p => {
                self.phase = p;
                self.queued.push_back(text);
                Ok(())
            }
        }
    }

    /// Ends the session at the client's end (`session.close`, or a dropped
    /// socket): the call completes with `user_hangup`; `session.closed` is
    /// queued unless the socket is gone.
    pub fn close(&mut self, now: Millis, reason: CloseReason) {
        if self.closing.is_some() {
            return;
        }
        self.live.end(now, CallStatus::Completed, "user_hangup", None);
        self.finish(reason);
    }

    /// The call was ended elsewhere (a cancel, a reset): `session.closed
    /// {reason: ended}`.
    pub fn ended_elsewhere(&mut self) {
        if self.closing.is_none() {
            self.finish(CloseReason::Ended);
        }
    }

    /// The server shuts down under the session: the call fails with
    /// `system_error` (R110) and `session.closed {reason: ended}` is queued
    /// (R205: the server ended the session).
    pub fn shut_down(&mut self, now: Millis) {
        if self.closing.is_some() {
            return;
        }
        self.live.end(now, CallStatus::Failed, "system_error", Some("Server shutting down"));
        self.finish(CloseReason::Ended);
    }

    /// A fatal error (R212): `error {code}` then close 4000 with no
    /// `session.closed`; the call fails with `connection_error`.
    pub fn fail(&mut self, now: Millis, code: &str, message: &str) {
        if self.closing.is_some() {
            return;
        }
        self.out.push(ServerFrame::Error { code: code.into(), message: message.into() });
        self.live.end(now, CallStatus::Failed, "connection_error", Some(message));
        self.phase = Phase::Done;
        self.closing = Some(CLOSE_FATAL);
    }

    fn finish(&mut self, reason: CloseReason) {
        if reason != CloseReason::WebsocketClosed {
            self.out.push(ServerFrame::SessionClosed { reason });
        }
        self.phase = Phase::Done;
        self.closing = Some(CLOSE_NORMAL);
    }
}

fn error(code: &str, message: String) -> ServerFrame {
    ServerFrame::Error { code: code.into(), message }
}
