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
//!
//! # Client tools (LIVE W1)
//! The agent calls a tool declared with `session.update` (see
//! [`tools`](super::tools)) in two cases: a scenario `toolCall` step
//! (its `name`, else the first declared tool; an undeclared tool is
//! skipped with an `agent_log` warning), and the default rule: a committed
//! user turn whose text names a declared tool ([`tools::named_in`]) when
//! the scenario's next step is not itself a `toolCall`. The server sends
//! `function_call {call_id, name, arguments}` at once (`arguments`
//! generated from the tool's `parameters`, the step's values merged over
//! them, and validated; a step whose values do not validate sends no call
//! but `error {code: internal_error}` and a `tool_call_error` event).
//! - `expectsResponse` true (default): the agent waits. The matching
//!   `function_call.result` ends the wait (`tool_call_end`, with
//!   `latency_ms` on the mock's clock and the output, parsed when it is
//!   JSON, as `response`); after `timeout_ms` of the mock's clock the
//!   client gets `error {code: tool_timeout}` and the call log
//!   `tool_call_error`, and the agent goes on without the output.
//! - `expectsResponse: false`: fire and forget. `tool_call_end` is
//!   recorded at once and the agent goes on immediately; a result sent for
//!   it later is accepted and ignored.
//! - The agent's next turn uses the output: `{{tool_output}}` (the output
//!   string, "" after a timeout or a fire-and-forget call),
//!   `{{tool_output.<key>}}` (top-level fields of a JSON-object output) and
//!   `{{tool_error}}` (`tool_timeout` or "") fill its text; unknown
//!   placeholders stay as written, as for variables. The next agent turn
//!   instead says the [`quote`] of the output ([`TIMEOUT_ANSWER`] after a
//!   timeout) when it has no `text`, when its scripted text mentions
//!   neither `tool_output` nor `tool_error` after a default-rule call (the
//!   script could not foresee that call), or when it needs `tool_output`
//!   but the call timed out (and it does not mention `tool_error`). When
//!   the next step is not an agent turn, that answer is an extra agent
//!   turn before it.
//! - Errors, the session staying open: `unknown_call_id` for a result
//!   whose `call_id` is not pending (never issued, already answered, or
//!   timed out); `result_too_large` for an `output` over 64 KB (65 536
//!   bytes of UTF-8), after which the call **stays pending** so a shorter
//!   result can still be sent before the timeout.
//!
//! Tool calls go to the call log and the SSE stream as the spec's
//! `tool_call_start`, `tool_call_end` and `tool_call_error` events, with
//! `turn_id` (`turn_<n>`, the agent turn the call belongs to),
//! `tool_call_id` (the `call_id`) and `function_name`.
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
            config: Arc::clone(&call.config),
            tools: Vec::new(),
            settled: HashMap::new(),
            answer: None,
            calls_made: 0,
            agent_turns: 0,
        }
    }

    /// `session.update {tools}` at `now` (LIVE W1): replaces the runtime
    /// tools and answers `session.updated {tools: names}`, or answers
    /// `error` and changes nothing (codes in [`tools`]).
    pub fn declare_tools(&mut self, raw: &Value, now: Millis) -> Res {
        self.tick(now)?;
        match tools::declare(raw, &self.config) {
            Ok(set) => {
                self.out.push(ServerFrame::SessionUpdated { tools: set.iter().map(|t| t.name.clone()).collect() });
                self.tools = set;
            }
            Err(e) => self.out.push(error(e.code(), e.message())),
        }
        Ok(())
    }

    /// `function_call.result {call_id, output}` at `now` (see the module
    /// docs for `unknown_call_id` and `result_too_large`).
    pub fn tool_result(&mut self, call_id: &str, output: &str, now: Millis) -> Res {
        self.tick(now)?;
        if self.closing.is_some() {
            return Ok(());
        }
        let pending = matches!(&self.phase, Phase::Calling(c) if c.call_id == call_id);
        if !pending {
            let why = match self.settled.get(call_id) {
                Some(Settled::FireAndForget) => return Ok(()),
                Some(Settled::TimedOut) => " (it timed out)",
                Some(Settled::Answered) => " (it was already answered)",
                None => "",
            };
            let msg = format!("No pending function call with call_id '{call_id}'{why}");
            self.out.push(error("unknown_call_id", msg));
            return Ok(());
        }
        if output.len() > MAX_RESULT_BYTES {
            let msg = format!(
                "output is {} bytes; the limit is {MAX_RESULT_BYTES} bytes (64 KB). The call is still pending: \
                 send a shorter result",
                output.len()
            );
            self.out.push(error("result_too_large", msg));
            return Ok(());
        }
        let Phase::Calling(c) = std::mem::replace(&mut self.phase, Phase::Done) else { return Ok(()) };
        self.settled.insert(c.call_id.clone(), Settled::Answered);
        let response = serde_json::from_str::<Value>(output).unwrap_or_else(|_| Value::String(output.to_string()));
        let mut f = tool_fields(&c.turn_id, &c.call_id, &c.tool);
        f.insert("latency_ms".into(), json!(now - c.sent_at));
        f.insert("success".into(), json!(true));
        f.insert("response".into(), response);
        self.live.event(now, "tool_call_end", f)?;
        self.set_tool_vars(output, "");
        self.answer = Some(Answer { text: quote(output), replaces: c.replaces, failed: false });
        self.after_call(c.step, now)
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

    fn per_chunk(&self) -> u64 {
        (u64::from(self.rate) * CHUNK_MS / 1000).max(1)
    }

    fn next_step(&mut self, at: Millis) -> Res {
        let scenario = Arc::clone(&self.scenario);
        if self.answer.is_some() && !matches!(scenario.turns.get(self.cursor), Some(Step::Agent(_))) {
            // The tool's answer is a turn of its own.
            let text = self.answer.take().map(|a| a.text);
            self.think(&AgentTurn { text, ..AgentTurn::default() }, at, true);
            return Ok(());
        }
        let Some(step) = scenario.turns.get(self.cursor) else {
            self.phase = Phase::Ending(at + ms(END_GRACE_MS));
            return Ok(());
        };
        match step {
            Step::Agent(a) => self.think(a, at, false),
            Step::User(u) => {
                if let Some(text) = self.queued.pop_front() {
                    return self.commit_user(at, text, Said::Typed);
                }
                let vars = &self.ctx.variables;
                let text = timeline::fill(&u.text, vars);
                self.phase = Phase::Listening(Listen {
                    interims: timeline::user_interims(u, &text, vars),
                    duration_ms: timeline::user_duration_ms(u, &text).max(1),
                    text,
                    speech_samples: 0,
                    silence_samples: 0,
                    interims_sent: 0,
                    last_delta: None,
                    last_speech_at: None,
                });
            }
            Step::Pause(p) => self.phase = Phase::Wait(at + ms(p.ms)),
            Step::ToolCall(t) => self.phase = Phase::Wait(at + ms(t.after_ms)),
            other => self.phase = Phase::Wait(at + ms(timeline::step_event(other).map_or(0, |e| e.0))),
        }
        Ok(())
    }

    fn fire(&mut self, at: Millis) -> Res {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Wait(_) => {
                let scenario = Arc::clone(&self.scenario);
                if let Some(Step::ToolCall(t)) = scenario.turns.get(self.cursor) {
                    return self.scripted_call(t, at);
                }
                if let Some((_, kind, fields)) = self.scenario.turns.get(self.cursor).and_then(timeline::step_event) {
                    self.live.event(at, kind, fields)?;
                }
                self.cursor += 1;
                self.next_step(at)
            }
            Phase::Thinking(mut t) => match t.llm_at.take() {
                Some(_) => {
                    let fields = [("llm_text".to_string(), Value::String(t.llm_text.clone()))].into_iter().collect();
                    self.live.event(at, "llm_full_response_end", fields)?;
                    self.phase = Phase::Thinking(t);
                    Ok(())
                }
                None => self.respond(t, at),
            },
            Phase::Speaking(s) => self.speak(s, at),
            Phase::Calling(c) => self.time_out(&c, at),
            Phase::Listening(l) => self.commit_user(at, l.text, Said::Spoken(l.last_delta)),
            Phase::Ending(_) => {
                let status = match self.scenario.outcome {
                    Outcome::Cancelled => CallStatus::Cancelled,
                    _ => CallStatus::Completed,
                };
                let reason = self.scenario.disconnect_reason.clone().unwrap_or_else(|| "agent_hangup".into());
                self.live.end(at, status, &reason, None);
                self.finish(CloseReason::Ended);
                Ok(())
            }
            Phase::Done => Ok(()),
        }
    }

    fn think(&mut self, a: &AgentTurn, at: Millis, extra: bool) {
        let mut turn = a.clone();
        if let Some(answer) = self.answer.take() {
            let mentions = |name: &str| {
                turn.text
                    .as_deref()
                    .is_some_and(|t| t.contains(&format!("{{{{{name}")) || t.contains(&format!("{{{{ {name}")))
            };
            let (output, error) = (mentions("tool_output"), mentions("tool_error"));
            let replace =
                turn.text.is_none() || (answer.replaces && !output && !error) || (answer.failed && output && !error);
            if replace {
                turn.text = Some(answer.text);
                turn.llm_text = None;
                turn.tts_duration_ms = None;
            }
        }
        self.agent_turns += 1;
        let a = &turn;
        let (text, llm_text) = timeline::agent_text(a, &self.ctx.get());
        let start = at + ms(a.after_ms);
        let lat = a.latency;
        let llm_at = match self.mode {
            Mode::Webcall => start + ms(lat.stt_ms + lat.smart_turn_ms + lat.llm_ms),
            Mode::Chat => start + ms(lat.smart_turn_ms + lat.llm_ms),
        };
        let audio_at = match self.mode {
            Mode::Webcall => start + ms(lat.total()),
            Mode::Chat => llm_at,
        };
        self.phase = Phase::Thinking(Think { extra, turn, text, llm_text, llm_at: Some(llm_at), audio_at });
    }

    /// The agent's answer starts: audio in webcall, the transcript in chat.
    fn respond(&mut self, t: Think, at: Millis) -> Res {
        let turn_index = match self.last_user_end.take() {
            Some(user_end) => Some(self.live.transition(user_end, at)?),
            None => None,
        };
        self.live.event(at, "metrics", timeline::metrics_fields(&t.turn, &t.text, &self.ctx.get()))?;
        if self.mode == Mode::Chat {
            self.out.push(ServerFrame::Transcript { role: Role::Assistant, text: t.text.clone() });
            self.live.line(at, "agent", t.text)?;
            if let Some(i) = turn_index {
                let f = timeline::turn_latency_fields(
                    &t.turn.latency,
                    t.turn.latency.total(),
                    i,
                    false,
                    self.ctx.smart_turn,
                );
                self.live.event(at, "turn_latency", f)?;
            }
            if !t.extra {
                self.cursor += 1;
            }
            return self.next_step(at);
        }
        self.out.push(ServerFrame::AgentStartTalking { timestamp: iso_micros(at) });
        let tts_ms = t.turn.tts_duration_ms.unwrap_or_else(|| timeline::default_tts_ms(&t.text));
        self.phase = Phase::Speaking(Speak {
            extra: t.extra,
            words: t.text.split_whitespace().map(str::to_string).collect(),
            text: t.text,
            turn: t.turn,
            start: at,
            tts_ms,
            total: u64::from(self.rate) * tts_ms / 1000,
            sent: 0,
            words_sent: 0,
            turn_index,
        });
        Ok(())
    }

    /// Sends the next audio chunk (and any words it completes), or ends
    /// the turn once the audio's duration has elapsed.
    fn speak(&mut self, mut s: Speak, at: Millis) -> Res {
        if s.sent >= s.total {
            return self.end_turn(s, at, false);
        }
        let n = self.per_chunk().min(s.total - s.sent);
        self.out.push(ServerFrame::OutputAudioDelta { audio: tone_chunk(self.rate, self.tone_at, n) });
        self.tone_at += n;
        s.sent += n;
        let heard_ms = s.sent * 1000 / u64::from(self.rate);
        let n_words = s.words.len() as u64;
        let due = (n_words * heard_ms).checked_div(s.tts_ms).map_or(n_words, |d| d.min(n_words));
        let due = usize::try_from(due).unwrap_or(s.words.len());
        if due > s.words_sent {
            s.words_sent = due;
            self.out.push(ServerFrame::TranscriptDelta { role: Role::Assistant, text: s.words[..due].join(" ") });
        }
        self.phase = Phase::Speaking(s);
        Ok(())
    }

    fn barge_in(&mut self, now: Millis) -> Res {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Speaking(s) => {
                self.out.push(ServerFrame::Interruption);
                self.end_turn(s, now, true)
            }
            other => {
                self.phase = other;
                Ok(())
            }
        }
    }

    fn end_turn(&mut self, s: Speak, at: Millis, interrupted: bool) -> Res {
        self.out.push(ServerFrame::AgentStopTalking { timestamp: iso_micros(at) });
        let spoken = if interrupted { s.words[..s.words_sent].join(" ") } else { s.text };
        if !spoken.is_empty() {
            self.out.push(ServerFrame::Transcript { role: Role::Assistant, text: spoken.clone() });
            self.live.line(at, "agent", spoken.clone())?;
        }
        let lat = s.turn.latency;
        if let Some(i) = s.turn_index {
            let f = timeline::turn_latency_fields(&lat, lat.total(), i, interrupted, self.ctx.smart_turn);
            self.live.event(at, "turn_latency", f)?;
        }
        self.live.event(at, "tts_completed", timeline::tts_completed_fields(&spoken, &lat))?;
        if !s.extra {
            self.cursor += 1;
        }
        self.next_step(at)
    }

    /// The mock VAD on one chunk while the user's turn is expected.
    fn listen(&mut self, samples: &[i16], speech: bool, now: Millis) -> Res {
        let Phase::Listening(l) = &mut self.phase else { return Ok(()) };
        let n = samples.len() as u64;
        if speech {
            l.speech_samples += n;
            l.silence_samples = 0;
            l.last_speech_at = Some(now);
            let speech_ms = l.speech_samples * 1000 / u64::from(self.rate);
            let total = l.interims.len() as u64;
            let due = usize::try_from(((total + 1) * speech_ms / l.duration_ms).min(total)).unwrap_or(0);
            while l.interims_sent < due {
                let text = l.interims[l.interims_sent].clone();
                l.interims_sent += 1;
                self.live.event(now, "user_interim_transcription", timeline::interim_fields(&text))?;
                self.out.push(ServerFrame::TranscriptDelta { role: Role::User, text: text.clone() });
                l.last_delta = Some(text);
            }
            return Ok(());
        }
        if l.last_speech_at.is_none() {
            return Ok(());
        }
        l.silence_samples += n;
        if l.silence_samples * 1000 / u64::from(self.rate) < END_SILENCE_MS {
            return Ok(());
        }
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Listening(l) => self.commit_user(now, l.text, Said::Spoken(l.last_delta)),
            other => {
                self.phase = other;
                Ok(())
            }
        }
    }

    /// The user's turn is over. A spoken turn completes the cumulative
    /// user `transcript.delta`s and sends the final user `transcript`
    /// (R208); a typed one sends nothing. Either consumes the scenario's
    /// user step if it is next.
    fn commit_user(&mut self, at: Millis, text: String, how: Said) -> Res {
        if let Said::Spoken(last_delta) = how {
            if last_delta.as_deref() != Some(text.as_str()) {
                self.out.push(ServerFrame::TranscriptDelta { role: Role::User, text: text.clone() });
            }
            self.out.push(ServerFrame::Transcript { role: Role::User, text: text.clone() });
        }
        self.live.event(at, "user_transcription", timeline::user_transcription_fields(&text))?;
        let named = tools::named_in(&text, &self.tools).cloned();
        self.live.line(at, "user", text)?;
        self.last_user_end = Some(at);
        if matches!(self.scenario.turns.get(self.cursor), Some(Step::User(_))) {
            self.cursor += 1;
        }
        match named {
            // The default rule: the user asked for a declared tool.
            Some(tool) if !matches!(self.scenario.turns.get(self.cursor), Some(Step::ToolCall(_))) => {
                self.call_tool(tool, None, at, false, true)
            }
            _ => self.next_step(at),
        }
    }

    /// A scenario `toolCall` step is due.
    fn scripted_call(&mut self, t: &ToolCallStep, at: Millis) -> Res {
        let tool = match &t.name {
            Some(n) => self.tools.iter().find(|x| &x.name == n),
            None => self.tools.first(),
        };
        let Some(tool) = tool.cloned() else {
            let what = t
                .name
                .as_deref()
                .map_or_else(|| "no client tool is".to_string(), |n| format!("client tool '{n}' is not"));
            let meta = json!({"level": "warning", "tags": ["client_tools"],
                              "message": format!("{what} declared on this session; the agent skipped the toolCall step")});
            self.live.event(at, "agent_log", Map::from_iter([("metadata".to_string(), meta)]))?;
            return self.after_call(true, at);
        };
        self.call_tool(tool, t.arguments.as_ref(), at, true, false)
    }

    /// Sends `function_call` for `tool` and waits (or not, for a
    /// fire-and-forget tool). `step`: a scenario step; `replaces`: the
    /// default rule.
    fn call_tool(
        &mut self,
        tool: ClientTool,
        given: Option<&Map<String, Value>>,
        at: Millis,
        step: bool,
        replaces: bool,
    ) -> Res {
        self.calls_made += 1;
        let call_id =
            format!("call_{}", derived_id(&["client-tool", self.live.call_id(), &self.calls_made.to_string()]));
        let turn_id = format!("turn_{}", self.agent_turns + 1);
        let arguments = match tools::arguments(&tool, given) {
            Ok(a) => a,
            Err(e) => {
                let msg = format!("The scenario's arguments for '{}' do not match its parameters: {e}", tool.name);
                let mut f = tool_fields(&turn_id, &call_id, &tool.name);
                f.insert("success".into(), json!(false));
                f.insert("error".into(), json!({"code": "invalid_arguments", "message": msg}));
                self.live.event(at, "tool_call_error", f)?;
                self.out.push(error("internal_error", msg));
                return self.after_call(step, at);
            }
        };
        self.out.push(ServerFrame::FunctionCall {
            call_id: call_id.clone(),
            name: tool.name.clone(),
            arguments: arguments.clone(),
        });
        let mut f = tool_fields(&turn_id, &call_id, &tool.name);
        let context = json!({"arguments": arguments, "client_tool": true,
                             "expects_response": tool.expects_response, "timeout_ms": tool.timeout_ms});
        f.insert("context".into(), context);
        self.live.event(at, "tool_call_start", f)?;
        if !tool.expects_response {
            self.settled.insert(call_id.clone(), Settled::FireAndForget);
            let mut f = tool_fields(&turn_id, &call_id, &tool.name);
            f.extend([
                ("latency_ms".into(), json!(0)),
                ("success".into(), json!(true)),
                ("response".into(), Value::Null),
            ]);
            self.live.event(at, "tool_call_end", f)?;
            self.set_tool_vars("", "");
            return self.after_call(step, at);
        }
        let deadline = at + ms(tool.timeout_ms);
        self.phase =
            Phase::Calling(Calling { call_id, tool: tool.name, turn_id, sent_at: at, deadline, step, replaces });
        Ok(())
    }

    /// No result within the tool's `timeout_ms`.
    fn time_out(&mut self, c: &Calling, at: Millis) -> Res {
        self.settled.insert(c.call_id.clone(), Settled::TimedOut);
        let msg =
            format!("No function_call.result for call_id '{}' ({}) within {} ms", c.call_id, c.tool, at - c.sent_at);
        let mut f = tool_fields(&c.turn_id, &c.call_id, &c.tool);
        f.insert("latency_ms".into(), json!(at - c.sent_at));
        f.insert("success".into(), json!(false));
        f.insert("error".into(), json!({"code": "tool_timeout", "message": msg}));
        self.live.event(at, "tool_call_error", f)?;
        self.out.push(error("tool_timeout", msg));
        self.set_tool_vars("", "tool_timeout");
        self.answer = Some(Answer { text: TIMEOUT_ANSWER.into(), replaces: c.replaces, failed: true });
        self.after_call(c.step, at)
    }

    fn after_call(&mut self, step: bool, at: Millis) -> Res {
        if step {
            self.cursor += 1;
        }
        self.next_step(at)
    }

    /// Sets `{{tool_output}}`, `{{tool_output.<key>}}` and `{{tool_error}}`
    /// for the next agent turns.
    fn set_tool_vars(&mut self, output: &str, error: &str) {
        let vars = &mut self.ctx.variables;
        vars.retain(|k, _| k != "tool_output" && k != "tool_error" && !k.starts_with("tool_output."));
        vars.insert("tool_output".into(), json!(output));
        vars.insert("tool_error".into(), json!(error));
        if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(output) {
            for (k, v) in fields {
                let v = match v {
                    s @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => s,
                    other => Value::String(other.to_string()),
                };
                vars.insert(format!("tool_output.{k}"), v);
            }
        }
    }
}

fn error(code: &str, message: String) -> ServerFrame {
    ServerFrame::Error { code: code.into(), message }
}

/// The common fields of the `tool_call_*` events.
fn tool_fields(turn_id: &str, call_id: &str, tool: &str) -> Map<String, Value> {
    Map::from_iter([
        ("turn_id".to_string(), json!(turn_id)),
        ("tool_call_id".to_string(), json!(call_id)),
        ("function_name".to_string(), json!(tool)),
    ])
}

/// How a user turn arrived.
#[derive(Debug)]
enum Said {
    /// Through the VAD; the last user delta the client saw.
    Spoken(Option<String>),
    /// `input_text.send`.
    Typed,
}
