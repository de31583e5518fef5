//! The turn machinery of a [`Conversation`]: stepping through the
//! scenario, the agent thinking and speaking in chunks, barge-in, and the
//! mock VAD listening to the user (see the parent module's phases).

use super::*;

impl Conversation {
    pub(super) fn per_chunk(&self) -> u64 {
        (u64::from(self.rate) * CHUNK_MS / 1000).max(1)
    }

    pub(super) fn next_step(&mut self, at: Millis) -> Res {
        let scenario = Arc::clone(&self.scenario);
        if self.answer.is_some() && !matches!(scenario.turns.get(self.cursor), Some(Step::Agent(_))) {
            // The tool's answer is a turn of its own.
            let text = self.answer.take().map(|a| a.text);
            return self.think(&AgentTurn { text, ..AgentTurn::default() }, at, true);
        }
        let Some(step) = scenario.turns.get(self.cursor) else {
            self.phase = Phase::Ending(at + ms(END_GRACE_MS));
            return Ok(());
        };
        match step {
            Step::Agent(a) => self.think(a, at, false)?,
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

    pub(super) fn fire(&mut self, at: Millis) -> Res {
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

    pub(super) fn think(&mut self, a: &AgentTurn, at: Millis, extra: bool) -> Res {
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
        let (text, llm_text) = match self.knowledge_answer(a) {
            Some((event, text)) => {
                self.live.event(at, "knowledgebase", event)?;
                (text.clone(), text)
            }
            None => timeline::agent_text(a, &self.ctx.get()),
        };
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
        Ok(())
    }

    /// The agent's answer starts: audio in webcall, the transcript in chat.
    pub(super) fn respond(&mut self, t: Think, at: Millis) -> Res {
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
    pub(super) fn speak(&mut self, mut s: Speak, at: Millis) -> Res {
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

    pub(super) fn barge_in(&mut self, now: Millis) -> Res {
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

    pub(super) fn end_turn(&mut self, s: Speak, at: Millis, interrupted: bool) -> Res {
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
    pub(super) fn listen(&mut self, samples: &[i16], speech: bool, now: Millis) -> Res {
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
    pub(super) fn commit_user(&mut self, at: Millis, text: String, how: Said) -> Res {
        if let Said::Spoken(last_delta) = how {
            if last_delta.as_deref() != Some(text.as_str()) {
                self.out.push(ServerFrame::TranscriptDelta { role: Role::User, text: text.clone() });
            }
            self.out.push(ServerFrame::Transcript { role: Role::User, text: text.clone() });
        }
        self.live.event(at, "user_transcription", timeline::user_transcription_fields(&text))?;
        let named = tools::named_in(&text, &self.tools).cloned();
        self.last_user_text.clone_from(&text);
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
}

/// How a user turn arrived.
#[derive(Debug)]
pub(super) enum Said {
    /// Through the VAD; the last user delta the client saw.
    Spoken(Option<String>),
    /// `input_text.send`.
    Typed,
}
