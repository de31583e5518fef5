//! Compiles a scenario into a call's timeline: every event, transcript
//! line and latency, each at a millisecond offset from the moment the
//! call connects. Pure: the runner schedules the result on the clock, so
//! the SSE stream, the call log and the webhooks all read one script.
//!
//! Event fields follow the `/events` schema of the spec (BEHAVIOR R128–
//! R133); latencies are integer milliseconds, as the spec says (L-F3),
//! including `turn_latency`.

use serde_json::{json, Map, Value};

use super::model::{AgentTurn, Latency, Outcome, Scenario, Step, Tokens, UserTurn};
use crate::domain::knowledge_base::matcher::{answer, KbSource};

/// What an agent turn answering from the knowledge base says when no
/// passage matches and the turn has no `text`.
pub const NO_KNOWLEDGE_ANSWER: &str = "I'm sorry, I don't have that information.";
/// `latency` of the `knowledgebase` event, ms: the lookup runs at the
/// start of the turn's LLM time.
pub const KNOWLEDGE_LOOKUP_MS: u64 = 120;

/// What the timeline needs to know about the call.
#[derive(Debug, Clone)]
pub struct CallContext<'a> {
    /// The agent's `firstMessage` (used by agent turns without text).
    pub first_message: &'a str,
    /// Variables for `{{placeholders}}`: the agent's `defaultVariables`
    /// overlaid by the call's variables.
    pub variables: &'a Map<String, Value>,
    /// `slmModel` of the config the call runs.
    pub llm_model: &'a str,
    /// TTS model of the config.
    pub tts_model: &'a str,
    /// Whether smart turn detection is on.
    pub smart_turn: bool,
    /// The processed sources of the knowledge bases the config attaches
    /// (`globalKnowledgeBaseId`, `knowledge_base_search` tools), for agent
    /// turns with `fromKnowledgeBase`; empty when none.
    pub knowledge: &'a [KbSource<'a>],
}

/// One timed output of the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An SSE event: its type and type-specific fields.
    Event(&'static str, Map<String, Value>),
    /// A transcript line (`role` is `agent` or `user`), emitted when the
    /// turn ends, with the offset (ms from connect) at which it began.
    Transcript(&'static str, String, u64),
}

/// One user-to-agent transition (R112 `turnLatencyMetrics.transitions`),
/// in ms from connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    /// 1-based turn index.
    pub turn: u64,
    /// When the user stopped speaking.
    pub user_end: u64,
    /// When the agent's audio started.
    pub bot_start: u64,
}

/// The compiled conversation of a connected call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    /// Items with their offset from connect, ms, in order.
    pub items: Vec<(u64, Item)>,
    /// When the call hangs up, ms from connect.
    pub end_ms: u64,
    /// Turn transitions for latency statistics.
    pub transitions: Vec<Transition>,
}

/// Fills `{{name}}` placeholders from `vars`; unknown names stay as they are.
pub fn fill(text: &str, vars: &Map<String, Value>) -> String {
    crate::domain::template::fill(text, |k| match vars.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
        _ => None,
    })
}

fn fields(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Default speaking time of agent text: 60 ms per character, ≥ 400 ms.
pub fn default_tts_ms(text: &str) -> u64 {
    (u64::try_from(text.chars().count()).unwrap_or(0) * 60).max(400)
}

fn words(text: &str) -> u64 {
    u64::try_from(text.split_whitespace().count()).unwrap_or(0)
}

/// Text spoken before an interruption after `spoken_ms` of `total_ms`:
/// whole words, proportionally.
fn truncate_spoken(text: &str, spoken_ms: u64, total_ms: u64) -> String {
    let all: Vec<&str> = text.split_whitespace().collect();
    let n = all.len() as u64;
    let keep = (n * spoken_ms.min(total_ms)).checked_div(total_ms).map_or(n, |k| k.max(1));
    all[..usize::try_from(keep).unwrap_or(all.len()).min(all.len())].join(" ")
}

struct Builder<'a> {
    ctx: &'a CallContext<'a>,
    t: u64,
    items: Vec<(u64, Item)>,
    transitions: Vec<Transition>,
    last_user_end: Option<u64>,
    last_user_text: String,
    interrupted: bool,
}

impl Builder<'_> {
    fn push(&mut self, at: u64, item: Item) {
        self.items.push((at, item));
    }

    fn agent(&mut self, a: &AgentTurn) {
        let start = self.t + a.after_ms;
        let lat = a.latency;
        let (text, llm_text) = if a.from_knowledge_base {
            let (event, text) = knowledge_answer(a, &self.last_user_text, self.ctx);
            self.push(start + lat.stt_ms + lat.smart_turn_ms, Item::Event("knowledgebase", event));
            (text.clone(), text)
        } else {
            agent_text(a, self.ctx)
        };
        let audio = start + lat.total();
        let llm_done = start + lat.stt_ms + lat.smart_turn_ms + lat.llm_ms;
        self.push(llm_done, Item::Event("llm_full_response_end", fields(vec![("llm_text", json!(llm_text))])));
        let tts_total = a.tts_duration_ms.unwrap_or_else(|| default_tts_ms(&text));
        let (spoken, end, interrupted) = match a.interrupted_after_ms {
            Some(cut) if cut < tts_total => (truncate_spoken(&text, cut, tts_total), audio + cut, true),
            _ => (text.clone(), audio + tts_total, false),
        };
        if let Some(user_end) = self.last_user_end.take() {
            let turn = self.transitions.len() as u64 + 1;
            self.transitions.push(Transition { turn, user_end, bot_start: audio });
            // The whole wait, including logs, errors and pauses before the
            // turn, so the event agrees with `turnLatencyMetrics`.
            let f = turn_latency_fields(&lat, audio - user_end, turn, interrupted, self.ctx.smart_turn);
            self.push(audio, Item::Event("turn_latency", f));
        }
        self.push(audio, Item::Event("metrics", metrics_fields(a, &text, self.ctx)));
        self.push(end, Item::Event("tts_completed", tts_completed_fields(&spoken, &lat)));
        self.push(end, Item::Transcript("agent", spoken, audio));
        self.interrupted = interrupted;
        self.t = end;
    }

    fn user(&mut self, u: &UserTurn) {
        let text = fill(&u.text, self.ctx.variables);
        // A barge-in starts right where the agent was cut off.
        let gap = if std::mem::take(&mut self.interrupted) { 0 } else { u.after_ms.unwrap_or(300) };
        let start = self.t + gap;
        let dur = user_duration_ms(u, &text);
        let interims = user_interims(u, &text, self.ctx.variables);
        let n = interims.len() as u64;
        for (i, interim) in interims.into_iter().enumerate() {
            let at = start + dur * (i as u64 + 1) / (n + 1);
            self.push(at, Item::Event("user_interim_transcription", interim_fields(&interim)));
        }
        let end = start + dur;
        self.push(end, Item::Event("user_transcription", user_transcription_fields(&text)));
        self.last_user_text.clone_from(&text);
        self.push(end, Item::Transcript("user", text, start));
        self.last_user_end = Some(end);
        self.t = end;
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Agent(a) => self.agent(a),
            Step::User(u) => self.user(u),
            Step::Pause(p) => self.t += p.ms,
            // Client tools exist only on the realtime WebSocket (LIVE W1).
            Step::ToolCall(_) => {}
            Step::Node(_) | Step::Hop(_) | Step::Log(_) | Step::Error(_) => {
                if let Some((after, kind, f)) = step_event(step) {
                    self.t += after;
                    self.push(self.t, Item::Event(kind, f));
                }
            }
        }
    }
}

/// The spoken text of an agent turn (its `text`, else the first message,
/// placeholders filled) and the LLM text (`llmText`, else the same).
pub fn agent_text(a: &AgentTurn, ctx: &CallContext<'_>) -> (String, String) {
    let raw = a.text.clone().unwrap_or_else(|| ctx.first_message.to_string());
    let text = fill(&raw, ctx.variables);
    let llm_text = a.llm_text.as_deref().map_or_else(|| text.clone(), |l| fill(l, ctx.variables));
    (text, llm_text)
}

/// What an agent turn with `fromKnowledgeBase` says after the caller said
/// `utterance`: the best-matching passage of `ctx.knowledge`, else its
/// `text` (placeholders filled), else [`NO_KNOWLEDGE_ANSWER`]; and the
/// `knowledgebase` event's fields (OAS GET /events): `knowledge_base_id`
/// (the matched knowledge base, else the first attached one; absent with
/// none attached), `user_transcript`, `response` (the passage, or `null`),
/// `latency` ([`KNOWLEDGE_LOOKUP_MS`]) and `error: null`.
pub fn knowledge_answer(a: &AgentTurn, utterance: &str, ctx: &CallContext<'_>) -> (Map<String, Value>, String) {
    let found = answer(utterance, ctx.knowledge);
    let kb = found.as_ref().map(|(kb, _)| *kb).or_else(|| ctx.knowledge.first().map(|s| s.knowledge_base_id));
    let passage = found.map(|(_, m)| m.passage);
    let mut f = Map::new();
    if let Some(kb) = kb {
        f.insert("knowledge_base_id".into(), json!(kb));
    }
    f.insert("user_transcript".into(), json!(utterance));
    f.insert("response".into(), json!(passage.as_deref()));
    f.insert("latency".into(), json!(KNOWLEDGE_LOOKUP_MS));
    f.insert("error".into(), Value::Null);
    let text = passage.unwrap_or_else(|| {
        a.text.as_deref().map_or_else(|| NO_KNOWLEDGE_ANSWER.to_string(), |t| fill(t, ctx.variables))
    });
    (f, text)
}

/// `turn_latency` fields: the breakdown in integer ms, `turn_latency` and
/// `total_turn_ms` as the whole wait from the user's end to the agent's
/// audio (`waited_ms`), the 1-based turn index and whether the turn was
/// interrupted.
pub fn turn_latency_fields(
    lat: &Latency,
    waited_ms: u64,
    turn: u64,
    interrupted: bool,
    smart_turn: bool,
) -> Map<String, Value> {
    fields(vec![
        ("turn_latency", json!(waited_ms)),
        ("stt_api_ms", json!(lat.stt_ms)),
        ("stt_to_llm_ms", json!(0)),
        ("smart_turn_ms", json!(lat.smart_turn_ms)),
        ("llm_api_ms", json!(lat.llm_ms)),
        ("llm_to_tts_ms", json!(0)),
        ("tts_api_ms", json!(lat.tts_ms)),
        ("tts_to_audio_ms", json!(0)),
        ("total_turn_ms", json!(waited_ms)),
        ("turn_index", json!(turn)),
        ("interrupted", json!(interrupted)),
        ("smart_turn_enabled", json!(smart_turn)),
    ])
}

/// `metrics` fields of an agent turn speaking `text`: per-processor
/// latencies (ms) and token counts (default 12 × words prompt, 2 × words
/// completion).
pub fn metrics_fields(a: &AgentTurn, text: &str, ctx: &CallContext<'_>) -> Map<String, Value> {
    let lat = a.latency;
    let tokens = a.tokens.unwrap_or(Tokens { prompt: 12 * words(text).max(20), completion: 2 * words(text).max(1) });
    let metrics = json!([
        {"processor": "pulse_stt", "model": "pulse", "value": lat.stt_ms},
        {"processor": "electron_llm", "model": ctx.llm_model, "value": lat.llm_ms},
        {"processor": "lightning_tts", "model": ctx.tts_model, "value": lat.tts_ms},
        {"processor": "electron_llm_prompt_tokens", "model": ctx.llm_model, "value": tokens.prompt},
        {"processor": "electron_llm_completion_tokens", "model": ctx.llm_model, "value": tokens.completion},
    ]);
    fields(vec![("metrics", metrics)])
}

/// `tts_completed` fields: what was actually spoken and the TTS latency.
pub fn tts_completed_fields(spoken: &str, lat: &Latency) -> Map<String, Value> {
    fields(vec![("tts_text", json!(spoken)), ("tts_latency", json!(lat.tts_ms))])
}

/// `user_interim_transcription` fields.
pub fn interim_fields(text: &str) -> Map<String, Value> {
    fields(vec![("interim_transcription_text", json!(text))])
}

/// `user_transcription` fields.
pub fn user_transcription_fields(text: &str) -> Map<String, Value> {
    fields(vec![("user_transcription_text", json!(text))])
}

/// How long a user turn speaks, ms (`durationMs`, else 300 per word, at
/// least 500).
pub fn user_duration_ms(u: &UserTurn, text: &str) -> u64 {
    u.duration_ms.unwrap_or_else(|| (words(text) * 300).max(500))
}

/// The interim transcripts of a user turn, placeholders filled
/// (`interims`, else the growing word prefixes of `text`).
pub fn user_interims(u: &UserTurn, text: &str, vars: &Map<String, Value>) -> Vec<String> {
    match &u.interims {
        Some(list) => list.iter().map(|i| fill(i, vars)).collect(),
        None => {
            let ws: Vec<&str> = text.split_whitespace().collect();
            (1..ws.len()).map(|i| ws[..i].join(" ")).collect()
        }
    }
}

/// The SSE event of a workflow or log step (node, hop, log, error): its
/// delay in ms, type and fields. `None` for speech and pauses.
pub fn step_event(step: &Step) -> Option<(u64, &'static str, Map<String, Value>)> {
    match step {
        Step::Node(n) => {
            let node_type = n.node_type.clone().unwrap_or_else(|| "default".into());
            let f = fields(vec![
                ("node_id", json!(n.id)),
                ("node_name", json!(n.name)),
                ("node_type", json!(node_type)),
                ("context", Value::Object(n.context.clone())),
            ]);
            Some((n.after_ms, "agent_node_state", f))
        }
        Step::Hop(h) => {
            Some((h.after_ms, "hopping", fields(vec![("from_node_id", json!(h.from)), ("to_node_id", json!(h.to))])))
        }
        Step::Log(l) => {
            let level = l.level.clone().unwrap_or_else(|| "info".into());
            let meta = json!({"level": level, "message": l.message, "tags": l.tags});
            Some((l.after_ms, "agent_log", fields(vec![("metadata", meta)])))
        }
        Step::Error(e) => {
            let meta = json!({"code": e.code, "message": e.message, "details": e.details});
            Some((e.after_ms, "agent_error", fields(vec![("metadata", meta)])))
        }
        Step::Agent(_) | Step::User(_) | Step::Pause(_) | Step::ToolCall(_) => None,
    }
}

/// Compiles the connected part of `s` (empty for calls that never
/// connect). Items are sorted by time; ties keep script order.
pub fn compile(s: &Scenario, ctx: &CallContext<'_>) -> Timeline {
    if !matches!(s.outcome, Outcome::Completed | Outcome::Cancelled) {
        return Timeline::default();
    }
    let mut b = Builder {
        ctx,
        t: 0,
        items: Vec::new(),
        transitions: Vec::new(),
        last_user_end: None,
        last_user_text: String::new(),
        interrupted: false,
    };
    for step in &s.turns {
        b.step(step);
    }
    let mut items = b.items;
    items.sort_by_key(|(at, _)| *at);
    Timeline { items, end_ms: b.t + 500, transitions: b.transitions }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::model::Latency;

    fn ctx(vars: &Map<String, Value>) -> CallContext<'_> {
        CallContext {
            first_message: "Hi {{name}}!",
            variables: vars,
            llm_model: "electron",
            tts_model: "waves_lightning_v3_1",
            smart_turn: false,
            knowledge: &[],
        }
    }

    fn scenario(turns: Vec<Step>) -> Scenario {
        Scenario { ring_seconds: 0.0, turns, ..Scenario::placeholder("t".into()) }
    }

    #[test]
    fn placeholders_fill_from_variables_and_unknown_ones_stay() {
        let vars: Map<String, Value> = serde_json::from_value(json!({"name": "Ada", "n": 3})).unwrap_or_default();
        assert_eq!(fill("Hi {{name}}, {{ n }} items, {{missing}}", &vars), "Hi Ada, 3 items, {{missing}}");
        assert_eq!(fill("broken {{name", &vars), "broken {{name");
    }

    #[test]
    fn a_user_then_agent_turn_yields_ordered_events_and_one_transition() {
        let vars: Map<String, Value> = serde_json::from_value(json!({"name": "Ada"})).unwrap_or_default();
        let s = scenario(vec![
            Step::Agent(AgentTurn::default()),
            Step::User(UserTurn { text: "book friday please".into(), ..UserTurn::default() }),
            Step::Agent(AgentTurn {
                text: Some("Done.".into()),
                latency: Latency { stt_ms: 100, smart_turn_ms: 0, llm_ms: 300, tts_ms: 100 },
                ..AgentTurn::default()
            }),
        ]);
        let tl = compile(&s, &ctx(&vars));
        let kinds: Vec<&str> = tl
            .items
            .iter()
            .filter_map(|(_, i)| match i {
                Item::Event(k, _) => Some(*k),
                Item::Transcript(..) => None,
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "llm_full_response_end",
                "metrics",
                "tts_completed",
                "user_interim_transcription",
                "user_interim_transcription",
                "user_transcription",
                "llm_full_response_end",
                "turn_latency",
                "metrics",
                "tts_completed",
            ]
        );
        assert_eq!(tl.transitions.len(), 1);
        assert_eq!(tl.transitions[0].bot_start - tl.transitions[0].user_end, 500);
        assert!(tl.items.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(tl.items.iter().any(|(_, i)| matches!(i, Item::Transcript("agent", t, _) if t == "Hi Ada!")));
    }

    #[test]
    fn an_interrupted_turn_is_truncated_and_flagged() {
        let vars = Map::new();
        let s = scenario(vec![
            Step::User(UserTurn { text: "hello".into(), ..UserTurn::default() }),
            Step::Agent(AgentTurn {
                text: Some("one two three four five six".into()),
                tts_duration_ms: Some(600),
                interrupted_after_ms: Some(200),
                ..AgentTurn::default()
            }),
            Step::User(UserTurn { text: "stop".into(), ..UserTurn::default() }),
        ]);
        let tl = compile(&s, &ctx(&vars));
        let spoken = tl.items.iter().find_map(|(_, i)| match i {
            Item::Transcript("agent", t, _) => Some(t.clone()),
            _ => None,
        });
        assert_eq!(spoken.as_deref(), Some("one two"));
        let flagged =
            tl.items.iter().any(|(_, i)| matches!(i, Item::Event("turn_latency", f) if f["interrupted"] == true));
        assert!(flagged);
    }

    #[test]
    fn scripted_calls_skip_client_tool_steps() {
        let vars = Map::new();
        let with = scenario(vec![
            Step::User(UserTurn { text: "hello".into(), ..UserTurn::default() }),
            Step::ToolCall(crate::scenarios::model::ToolCallStep { after_ms: 900, ..Default::default() }),
            Step::Agent(AgentTurn { text: Some("Hi.".into()), ..AgentTurn::default() }),
        ]);
        let mut without = with.clone();
        without.turns.remove(1);
        assert_eq!(compile(&with, &ctx(&vars)), compile(&without, &ctx(&vars)));
    }

    #[test]
    fn a_knowledge_base_turn_quotes_the_passage_matching_the_last_user_turn() {
        use crate::domain::knowledge_base::matcher::Source;
        let vars = Map::new();
        let text = "We are open 9 to 5 on weekdays.\nRefunds are issued within 14 days of purchase.";
        let knowledge = [KbSource { knowledge_base_id: "kb1", source: Source { id: "item1", text } }];
        let mut c = ctx(&vars);
        c.knowledge = &knowledge;
        let kb_turn =
            AgentTurn { from_knowledge_base: true, text: Some("Let me check.".into()), ..AgentTurn::default() };
        let s = scenario(vec![
            Step::User(UserTurn { text: "How long do refunds take?".into(), ..UserTurn::default() }),
            Step::Agent(kb_turn.clone()),
            Step::User(UserTurn { text: "Do you sell gift cards?".into(), ..UserTurn::default() }),
            Step::Agent(kb_turn),
        ]);
        let tl = compile(&s, &c);
        let said: Vec<&str> = tl
            .items
            .iter()
            .filter_map(|(_, i)| match i {
                Item::Transcript("agent", t, _) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(said, ["Refunds are issued within 14 days of purchase.", "Let me check."]);
        let events: Vec<&Map<String, Value>> = tl
            .items
            .iter()
            .filter_map(|(_, i)| match i {
                Item::Event("knowledgebase", f) => Some(f),
                _ => None,
            })
            .collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["knowledge_base_id"], "kb1");
        assert_eq!(events[0]["user_transcript"], "How long do refunds take?");
        assert_eq!(events[0]["response"], "Refunds are issued within 14 days of purchase.");
        assert_eq!(events[1]["response"], Value::Null, "no passage shares a term with gift cards");
        let bare = compile(&s, &ctx(&vars));
        let fallback =
            bare.items.iter().any(|(_, i)| matches!(i, Item::Transcript("agent", t, _) if t == "Let me check."));
        assert!(fallback, "without sources the turn says its text");
        let mut none = AgentTurn { from_knowledge_base: true, ..AgentTurn::default() };
        none.text = None;
        let (f, said) = knowledge_answer(&none, "anything", &ctx(&vars));
        assert_eq!((said.as_str(), f.contains_key("knowledge_base_id")), (NO_KNOWLEDGE_ANSWER, false));
    }

    #[test]
    fn calls_that_never_connect_have_no_timeline() {
        let mut s = scenario(Vec::new());
        s.outcome = Outcome::NoAnswer;
        assert_eq!(compile(&s, &ctx(&Map::new())), Timeline::default());
    }
}
