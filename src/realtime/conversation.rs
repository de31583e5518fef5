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
//!
//! After the last step comes [`END_GRACE_MS`], then `session.closed
//! {reason: ended}` (R205). The call log, SSE events and transcript lines
//! are written through [`LiveCall`] as things happen.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::protocol::{iso_micros, rms, tone_chunk, CloseReason, Role, ServerFrame};
use super::{Mode, CHUNK_MS, END_GRACE_MS, END_SILENCE_MS, SPEECH_RMS};
use crate::calls::{context, Call, CallEnded, LiveCall};
use crate::domain::call::CallStatus;
use crate::domain::Millis;
use crate::scenarios::model::{AgentTurn, Outcome, Step};
use crate::scenarios::timeline::{self, CallContext};
use crate::scenarios::Scenario;

/// Close code after `session.closed` (R213).
pub const CLOSE_NORMAL: u16 = 1000;
/// Close code after a fatal error, with no `session.closed` (R212).
pub const CLOSE_FATAL: u16 = 4000;

type Res = Result<(), CallEnded>;

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
    turn: AgentTurn,
    text: String,
    llm_text: String,
    llm_at: Option<Millis>,
    audio_at: Millis,
}

#[derive(Debug)]
struct Speak {
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

#[derive(Debug)]
enum Phase {
    Wait(Millis),
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
        }
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
        let Some(step) = scenario.turns.get(self.cursor) else {
            self.phase = Phase::Ending(at + ms(END_GRACE_MS));
            return Ok(());
        };
        match step {
            Step::Agent(a) => self.think(a, at),
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
            other => self.phase = Phase::Wait(at + ms(timeline::step_event(other).map_or(0, |e| e.0))),
        }
        Ok(())
    }

    fn fire(&mut self, at: Millis) -> Res {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Wait(_) => {
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

    fn think(&mut self, a: &AgentTurn, at: Millis) {
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
        self.phase = Phase::Thinking(Think { turn: a.clone(), text, llm_text, llm_at: Some(llm_at), audio_at });
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
            self.cursor += 1;
            return self.next_step(at);
        }
        self.out.push(ServerFrame::AgentStartTalking { timestamp: iso_micros(at) });
        let tts_ms = t.turn.tts_duration_ms.unwrap_or_else(|| timeline::default_tts_ms(&t.text));
        self.phase = Phase::Speaking(Speak {
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
        self.cursor += 1;
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
        self.live.line(at, "user", text)?;
        self.last_user_end = Some(at);
        if matches!(self.scenario.turns.get(self.cursor), Some(Step::User(_))) {
            self.cursor += 1;
        }
        self.next_step(at)
    }
}

/// How a user turn arrived.
#[derive(Debug)]
enum Said {
    /// Through the VAD; the last user delta the client saw.
    Spoken(Option<String>),
    /// `input_text.send`.
    Typed,
}
