//! The realtime agent WebSocket (BEHAVIOR §J) driven with tokio-tungstenite
//! on the virtual clock: tokens, handshake rejections, sample rates, a
//! full webcall conversation, barge-in, chat mode, every close path and
//! the post-call processing that follows each.

#![allow(unreachable_pub)]

use std::time::Duration;

use atoms_mock::events::Milestone;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestServer;

pub const KEY: &str = "sk_realtime_tests";

/// The test scenario: a 14-word greeting over 3 s, one user turn, a 9-word
/// answer over 2 s.
const TWO_TURNS: &str = r#"{
  "name": "rt-two-turns",
  "description": "Realtime tests: a greeting, one user turn, one answer.",
  "outcome": "completed",
  "disconnectReason": "agent_hangup",
  "turns": [
    {"agent": {"text": "Hi {{customer_name}}, thanks for calling the Example Store. How can I help you today?",
               "ttsDurationMs": 3000, "latency": {"sttMs": 0, "llmMs": 200, "ttsMs": 0}}},
    {"user": {"text": "What are your opening hours today?", "durationMs": 1200}},
    {"agent": {"text": "We are open from nine to five, every day.", "ttsDurationMs": 2000,
               "latency": {"sttMs": 100, "llmMs": 300, "ttsMs": 100}}}
  ],
  "analytics": {"delaySeconds": 5, "summary": "Opening hours."}
}"#;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A server whose fixtures add [`TWO_TURNS`], and an agent of [`KEY`].
pub async fn server() -> (TestServer, String) {
    server_with(&[("rt-two-turns", TWO_TURNS)]).await
}

/// A server whose fixtures add `scenarios` (name, JSON), and an agent of
/// [`KEY`].
pub async fn server_with(scenarios: &[(&str, &str)]) -> (TestServer, String) {
    let dir = std::env::temp_dir().join(format!("atoms-mock-rt-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(dir.join("scenarios")).expect("mkdir");
    for (name, json) in scenarios {
        std::fs::write(dir.join(format!("scenarios/{name}.json")), json).expect("write scenario");
    }
    let mut config = atoms_mock::Config::for_tests();
    config.fixtures = Some(dir);
    let s = TestServer::with_config(config).await;
    let agent = s.create_agent(KEY, "Realtime agent").await;
    (s, agent)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

pub fn ws_url(s: &TestServer, query: &str) -> String {
    format!("ws://{}/atoms/v1/agent/connect?{query}", s.server.addr())
}

/// Opens a socket; `Err((status, body))` when the upgrade is refused.
pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Result<Ws, (u16, Value)> {
    let mut req = url.into_client_request().expect("request");
    for (k, v) in headers {
        let name: reqwest::header::HeaderName = k.parse().expect("header name");
        req.headers_mut().insert(name, v.parse().expect("header value"));
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(res)) => {
            let body = res.body().as_deref().map(|b| serde_json::from_slice(b).unwrap_or(Value::Null));
            Err((res.status().as_u16(), body.unwrap_or(Value::Null)))
        }
        Err(e) => panic!("connect failed: {e}"),
    }
}

/// The status and body of a refused upgrade (panics if it was accepted).
pub async fn refused(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    match connect(url, headers).await {
        Ok(_) => panic!("{url} {headers:?} was accepted"),
        Err(e) => e,
    }
}

/// A connected session and every frame it received.
pub struct Session {
    pub ws: Ws,
    pub frames: Vec<Value>,
    pub close: Option<u16>,
}

pub enum Got {
    Frame(Value),
    Closed(u16),
    Idle,
}

impl Session {
    pub async fn open(url: &str, headers: &[(&str, &str)]) -> Self {
        let ws = connect(url, headers).await.unwrap_or_else(|e| panic!("refused: {e:?}"));
        Self { ws, frames: Vec::new(), close: None }
    }

    /// One frame, a close, or nothing within `ms` of real time.
    pub async fn recv(&mut self, ms: u64) -> Got {
        match tokio::time::timeout(Duration::from_millis(ms), self.ws.next()).await {
            Err(_) => Got::Idle,
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("frames are JSON");
                self.frames.push(v.clone());
                Got::Frame(v)
            }
            Ok(Some(Ok(Message::Close(f)))) => {
                let code = f.map_or(1005, |f| u16::from(f.code));
                self.close = Some(code);
                Got::Closed(code)
            }
            Ok(Some(Ok(other))) => panic!("unexpected message {other:?}"),
            Ok(Some(Err(_)) | None) => {
                self.close.get_or_insert(1006);
                Got::Closed(1006)
            }
        }
    }

    /// Reads until a frame matches `pred`, advancing the virtual clock by
    /// 0.1 s whenever nothing arrives.
    pub async fn until(&mut self, s: &TestServer, pred: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..2000 {
            match self.recv(15).await {
                Got::Frame(v) if pred(&v) => return v,
                Got::Frame(_) => {}
                Got::Closed(code) => panic!("closed ({code}) before a match; frames: {:#?}", types(&self.frames)),
                Got::Idle => s.advance(0.1).await,
            }
        }
        panic!("no matching frame; frames: {:#?}", types(&self.frames))
    }

    /// Reads until the close frame, advancing the clock; returns its code.
    pub async fn closed(&mut self, s: &TestServer) -> u16 {
        for _ in 0..2000 {
            match self.recv(15).await {
                Got::Closed(code) => return code,
                Got::Frame(_) => {}
                Got::Idle => s.advance(0.1).await,
            }
        }
        panic!("never closed; frames: {:#?}", types(&self.frames))
    }

    pub async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.expect("send");
    }

    /// `ms` of client audio at `rate`: a 300 Hz tone when `loud`, else
    /// silence, in 20 ms chunks.
    pub async fn speak(&mut self, rate: u32, ms: u32, loud: bool) {
        for _ in 0..ms / 20 {
            let n = rate / 50;
            let pcm: Vec<u8> = (0..n)
                .flat_map(|i| {
                    let t = f64::from(i) / f64::from(rate);
                    let v = if loud { (6000.0 * (std::f64::consts::TAU * 300.0 * t).sin()) as i16 } else { 0 };
                    v.to_le_bytes()
                })
                .collect();
            self.send(json!({"type": "input_audio_buffer.append", "audio": STANDARD.encode(pcm)})).await;
        }
    }

    /// The session's call id (from `session.created`).
    pub fn call_id(&self) -> String {
        self.frames.iter().find(|f| f["type"] == "session.created").expect("session.created")["call_id"]
            .as_str()
            .expect("call_id")
            .to_string()
    }
}

pub fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == kind
}

fn types(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f["type"].as_str() {
            Some("output_audio.delta") => "output_audio.delta".into(),
            _ => f.to_string(),
        })
        .collect()
}

async fn register(s: &TestServer, agent: &str, extra: Value) -> String {
    let mut body = json!({"agent_id": agent});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = s.post("/conversation/register-call", KEY, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["data"]["access_token"].as_str().expect("token").to_string()
}

/// A raw-key handshake query for `agent`, plus `extra` (`&k=v…`).
pub fn raw_query(agent: &str, extra: &str) -> String {
    format!("token={KEY}&agent_id={agent}{extra}")
}

/// Header choosing [`TWO_TURNS`] for a session.
pub const SCENARIO: (&str, &str) = ("x-atoms-mock-scenario", "rt-two-turns");

/// Post-call processing happened for `call_id`: a terminal call log, the
/// SSE replay up to `call_end` and `sse_close`, and the post-conversation
/// milestone the webhooks follow. Returns the call log.
pub async fn post_call(s: &TestServer, call_id: &str) -> Value {
    // Await the call's post-conversation milestone (published when it ends)
    // instead of polling the log.
    let is_post =
        |m: &atoms_mock::events::Lifecycle| m.milestone == Milestone::PostConversation && m.call.call_id == call_id;
    let (replay, mut rx) = s.server.state().calls.bus().subscribe_from(0);
    if !replay.iter().any(|m| is_post(m)) {
        let wait = async {
            while let Ok(m) = rx.recv().await {
                if is_post(&m) {
                    return;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait).await.expect("post-conversation milestone");
    }
    let log = s.get(&format!("/conversation/{call_id}"), KEY).await.body["data"].clone();
    assert_ne!(log["status"], "in_progress", "the call ended: {log}");
    assert_eq!(log["callId"], call_id);
    let url = format!("{}/events?callId={call_id}", s.base());
    let sse = s.http.get(url).bearer_auth(KEY).send().await.expect("sse").text().await.expect("sse body");
    for kind in ["\"call_start\"", "\"call_end\"", "\"sse_close\""] {
        assert!(sse.contains(kind), "{kind} missing from the SSE replay:\n{sse}");
    }
    let (milestones, _) = s.server.state().calls.bus().subscribe_from(0);
    let post = milestones.iter().any(|m| m.milestone == Milestone::PostConversation && m.call.call_id == call_id);
    assert!(post, "post-conversation milestone for {call_id}");
    log
}

#[tokio::test]
async fn register_call_mints_a_single_use_token_that_lives_30_seconds_of_mock_time() {
    let (s, agent) = server().await;
    let r = s.post("/conversation/register-call", KEY, json!({"agent_id": agent})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let data = &r.body["data"];
    assert!(data["access_token"].as_str().is_some_and(|t| t.starts_with("wct_") && t.len() == 40), "{data}");
    assert_eq!((data["expires_in"].as_i64(), data["sample_rate"].as_i64()), (Some(30), Some(24000)));

    let token = data["access_token"].as_str().expect("token");
    let mut first = Session::open(&ws_url(&s, &format!("token={token}")), &[]).await;
    let created = first.until(&s, |_| true).await;
    assert_eq!(created["type"], "session.created");
    let reused = refused(&ws_url(&s, &format!("token={token}")), &[]).await;
    assert_eq!(reused.0, 401);

    let fresh = register(&s, &agent, json!({})).await;
    s.advance(29.9).await;
    assert!(connect(&ws_url(&s, &format!("token={fresh}")), &[]).await.is_ok(), "still valid at 29.9 s");
    let late = register(&s, &agent, json!({})).await;
    s.advance(30.0).await;
    let expired = refused(&ws_url(&s, &format!("token={late}")), &[]).await;
    assert_eq!(expired.0, 401);
    assert_eq!(expired.1["status"], false);
}

#[tokio::test]
async fn register_call_rejects_bad_bodies_as_documented() {
    let (s, agent) = server().await;
    let cases = [
        (json!({}), 400),
        (json!({"agent_id": "nope"}), 400),
        (json!({"agent_id": agent, "mode": "video"}), 400),
        (json!({"agent_id": agent, "variables": {"a": {"nested": 1}}}), 400),
        (json!({"agent_id": "0123456789abcdef01234567"}), 404),
    ];
    for (body, status) in cases {
        let r = s.post("/conversation/register-call", KEY, body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text);
        assert_eq!(r.body["status"], false);
    }
    let foreign = s.post("/conversation/register-call", "sk_someone_else", json!({"agent_id": agent})).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let anonymous = s.call(Method::POST, "/conversation/register-call", None, Some(json!({"agent_id": agent}))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn token_variables_reach_the_call_with_reserved_keys_stripped() {
    let (s, agent) = server().await;
    let vars = json!({"customer_name": "Ada", "call_id": "spoofed", "timezone": "Mars/Base", "user_number": "+1"});
    let token = register(&s, &agent, json!({"mode": "chat", "variables": vars})).await;
    let mut ws = Session::open(&ws_url(&s, &format!("token={token}")), &[SCENARIO]).await;
    let greeting = ws.until(&s, is("transcript")).await;
    assert_eq!(greeting["text"], "Hi Ada, thanks for calling the Example Store. How can I help you today?");
    let call_id = ws.call_id();
    let log = s.get(&format!("/conversation/{call_id}"), KEY).await.body["data"].clone();
    assert_eq!(log["variables"]["customer_name"], "Ada");
    assert_eq!(log["variables"]["call_id"], call_id.as_str());
    assert_ne!(log["variables"]["timezone"], "Mars/Base");
    assert_ne!(log["variables"]["user_number"], "+1");
}

#[tokio::test]
async fn every_handshake_rejection_has_its_status_and_an_envelope() {
    let (s, agent) = server().await;
    let foreign = s.create_agent("sk_other_org", "Theirs").await;
    let bearer = format!("Bearer {KEY}");
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, u16);
    let cases: Vec<Case<'_>> = vec![
        (String::new(), vec![], 401),
        (format!("token={KEY}&agent_id={agent}"), vec![("authorization", bearer.as_str())], 400),
        ("token=wct_00000000-0000-4000-8000-000000000000".into(), vec![], 401),
        (format!("token={KEY}"), vec![], 400),
        (raw_query("0123456789abcdef01234567", ""), vec![], 401),
        (raw_query("not-an-id", ""), vec![], 401),
        (raw_query(&foreign, ""), vec![], 401),
        (raw_query(&agent, "&mode=video"), vec![], 400),
        (raw_query(&agent, "&sample_rate=44100"), vec![], 400),
        (raw_query(&agent, "&sample_rate=fast"), vec![], 400),
        (raw_query(&agent, "&variables=%7Bnot-json"), vec![], 400),
        (raw_query(&agent, "&variables=%7B%22a%22%3A%5B1%5D%7D"), vec![], 400),
        (raw_query(&agent, ""), vec![("x-atoms-mock-scenario", "no-such-scenario")], 400),
    ];
    for (query, headers, status) in cases {
        let (got, body) = refused(&ws_url(&s, &query), &headers).await;
        assert_eq!(got, status, "{query} {headers:?}: {body}");
        assert_eq!(body["status"], false, "{body}");
        assert!(body["errors"][0].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    let plain = s.raw(Method::GET, &format!("{}/agent/connect?{}", s.base(), raw_query(&agent, "")), None, None).await;
    assert_eq!(plain.status, StatusCode::UPGRADE_REQUIRED);
    assert_eq!(plain.body["status"], false);
}

#[tokio::test]
async fn draining_answers_503_and_the_session_limit_429_per_organization() {
    let (s, agent) = server().await;
    let r = s.admin(Method::PATCH, "/realtime", Some(json!({"draining": true}))).await;
    assert_eq!(r.body["draining"], true);
    let (status, body) = refused(&ws_url(&s, &raw_query(&agent, "")), &[]).await;
    assert_eq!((status, &body["status"]), (503, &json!(false)));
    s.admin(Method::PATCH, "/realtime", Some(json!({"draining": false}))).await;

    let r = s.admin(Method::GET, "/realtime", None).await;
    assert_eq!(r.body["sessionLimit"], 100, "default limit");
    s.admin(Method::PATCH, "/realtime", Some(json!({"apiKey": KEY, "sessionLimit": 1}))).await;
    let mut first = Session::open(&ws_url(&s, &raw_query(&agent, "&mode=chat")), &[]).await;
    first.until(&s, is("session.created")).await;
    let (status, body) = refused(&ws_url(&s, &raw_query(&agent, "")), &[]).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["status"], false);
    let other = s.create_agent("sk_other_org", "Theirs").await;
    let q = format!("token=sk_other_org&agent_id={other}");
    assert!(connect(&ws_url(&s, &q), &[]).await.is_ok(), "other organizations keep their own limit");

    first.send(json!({"type": "session.close"})).await;
    assert_eq!(first.closed(&s).await, 1000);
    // The session's slot frees when its task ends; wait for that with a
    // timeout, letting the server settle between reads rather than sleeping.
    let open =
        || async { s.admin(Method::GET, &format!("/realtime?apiKey={KEY}"), None).await.body["openSessions"] == 0 };
    s.until("the session slot was freed", open).await;
    assert!(connect(&ws_url(&s, &raw_query(&agent, "")), &[]).await.is_ok(), "the slot was freed");
}

#[tokio::test]
async fn session_created_comes_first_with_the_negotiated_sample_rate() {
    let (s, agent) = server().await;
    for rate in [8000, 16000, 24000, 48000] {
        let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, &format!("&sample_rate={rate}"))), &[]).await;
        let first = ws.until(&s, |_| true).await;
        assert_eq!(first["type"], "session.created");
        assert_eq!((first["sample_rate"].as_u64(), first["channels"].as_u64()), (Some(rate), Some(1)));
        assert!(first["session_id"].as_str().is_some_and(|id| id.len() == 36));
        assert!(first["call_id"].as_str().is_some_and(|id| id.starts_with("CALL-")));
    }
    let bearer = format!("Bearer {KEY}");
    let mut header_auth =
        Session::open(&ws_url(&s, &format!("agent_id={agent}")), &[("authorization", bearer.as_str())]).await;
    assert_eq!(header_auth.until(&s, |_| true).await["sample_rate"], 24000);
    let token = register(&s, &agent, json!({})).await;
    let q = format!("token={token}&sample_rate=8000&agent_id=ignored&mode=video");
    let mut with_token = Session::open(&ws_url(&s, &q), &[]).await;
    assert_eq!(with_token.until(&s, |_| true).await["sample_rate"], 24000, "wct_ sessions are 24000 Hz (L-J5)");
}

/// Checks one agent turn (R206) in `frames`, from `agent_start_talking` to
/// its final assistant transcript; returns (audio samples, final text).
fn check_agent_turn(frames: &[Value]) -> (usize, String) {
    assert_eq!(frames[0]["type"], "agent_start_talking", "{:?}", types(frames));
    assert!(frames[0]["timestamp"].as_str().is_some_and(|t| t.len() == 27 && t.ends_with('Z')));
    let stop = frames.iter().position(is("agent_stop_talking")).expect("agent_stop_talking");
    let last_audio = frames.iter().rposition(is("output_audio.delta")).expect("audio");
    assert!(last_audio < stop, "no audio after agent_stop_talking");
    let mut samples = 0;
    let mut previous = String::new();
    for f in &frames[1..stop] {
        match f["type"].as_str() {
            Some("output_audio.delta") => {
                let bytes = STANDARD.decode(f["audio"].as_str().expect("audio")).expect("base64");
                assert_eq!(bytes.len() % 2, 0, "PCM16");
                samples += bytes.len() / 2;
            }
            Some("transcript.delta") => {
                assert_eq!(f["role"], "assistant");
                let text = f["text"].as_str().expect("text").to_string();
                assert!(
                    text.starts_with(&previous) && text.len() > previous.len(),
                    "cumulative: {previous:?} → {text:?}"
                );
                previous = text;
            }
            other => panic!("unexpected {other:?} inside an agent turn"),
        }
    }
    let last = frames.last().expect("final");
    assert_eq!((&last["type"], &last["role"]), (&json!("transcript"), &json!("assistant")));
    (samples, last["text"].as_str().expect("text").to_string())
}

fn slice_turn(frames: &[Value], from: usize) -> &[Value] {
    let start = frames[from..].iter().position(is("agent_start_talking")).map(|i| i + from).expect("turn start");
    let end = frames[start..]
        .iter()
        .position(|f| f["type"] == "transcript" && f["role"] == "assistant")
        .map(|i| i + start)
        .expect("final transcript");
    &frames[start..=end]
}

#[tokio::test]
async fn a_webcall_conversation_streams_paced_audio_and_transcripts_in_order() {
    let (s, agent) = server().await;
    let rate = 16000;
    let vars = "&variables=%7B%22customer_name%22%3A%22Ada%22%7D";
    let url = ws_url(&s, &raw_query(&agent, &format!("&sample_rate={rate}{vars}")));
    let mut ws = Session::open(&url, &[SCENARIO]).await;
    ws.until(&s, |f| f["type"] == "transcript" && f["role"] == "assistant").await;
    let (samples, greeting) = check_agent_turn(slice_turn(&ws.frames, 0));
    assert_eq!(greeting, "Hi Ada, thanks for calling the Example Store. How can I help you today?");
    let chunk = (rate / 25) as usize;
    assert!(samples.abs_diff(3 * rate as usize) <= chunk, "3 s of audio at {rate} Hz: {samples} samples");

    let user_from = ws.frames.len();
    ws.speak(rate, 1200, true).await;
    ws.speak(rate, 600, false).await;
    let user_final = ws.until(&s, |f| f["type"] == "transcript" && f["role"] == "user").await;
    assert_eq!(user_final["text"], "What are your opening hours today?");
    let user_deltas: Vec<&str> = ws.frames[user_from..]
        .iter()
        .filter(|f| f["type"] == "transcript.delta")
        .map(|f| {
            assert_eq!(f["role"], "user");
            f["text"].as_str().expect("text")
        })
        .collect();
    assert!(user_deltas.len() >= 2, "growing user deltas: {user_deltas:?}");
    assert!(user_deltas.windows(2).all(|w| w[1].starts_with(w[0])), "cumulative: {user_deltas:?}");

    let reply_from = ws.frames.len();
    ws.until(&s, |f| f["type"] == "transcript" && f["role"] == "assistant").await;
    let (samples, reply) = check_agent_turn(slice_turn(&ws.frames, reply_from));
    assert_eq!(reply, "We are open from nine to five, every day.");
    assert!(samples.abs_diff(2 * rate as usize) <= chunk, "2 s of audio: {samples}");

    let closed = ws.until(&s, is("session.closed")).await;
    assert_eq!(closed["reason"], "ended");
    assert_eq!(ws.closed(&s).await, 1000);
    let log = post_call(&s, &ws.call_id()).await;
    assert_eq!((&log["status"], &log["type"]), (&json!("completed"), &json!("webcall")), "{log}");
    let lines: Vec<&str> =
        log["transcript"].as_array().expect("transcript").iter().filter_map(|l| l["content"].as_str()).collect();
    assert_eq!(lines.len(), 3, "{log}");
}

#[tokio::test]
async fn barge_in_interrupts_the_agent_and_truncates_what_was_heard() {
    let (s, agent) = server().await;
    let rate = 24000;
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[SCENARIO]).await;
    ws.until(&s, |f| f["type"] == "transcript.delta" && f["text"].as_str().is_some_and(|t| t.split(' ').count() >= 4))
        .await;
    ws.speak(rate, 100, true).await;
    let interruption = ws.until(&s, is("interruption")).await;
    assert_eq!(interruption, json!({"type": "interruption"}));
    let i = ws.frames.len() - 1;
    let heard = ws.frames[..i]
        .iter()
        .rev()
        .find(|f| f["type"] == "transcript.delta")
        .and_then(|f| f["text"].as_str())
        .expect("a delta before the interruption")
        .to_string();
    let stop = ws.until(&s, is("agent_stop_talking")).await;
    assert_eq!(stop["type"], "agent_stop_talking");
    let final_text = ws.until(&s, is("transcript")).await;
    assert_eq!((&final_text["role"], final_text["text"].as_str()), (&json!("assistant"), Some(heard.as_str())));
    assert!(heard.split(' ').count() < 14, "truncated: {heard}");
    // The barge-in speech opens the user's turn; the answer follows.
    ws.speak(rate, 1200, true).await;
    ws.speak(rate, 600, false).await;
    ws.until(&s, |f| f["type"] == "transcript" && f["role"] == "user").await;
    ws.until(&s, is("agent_start_talking")).await;
    let between = &ws.frames[i..];
    let restart = between.iter().position(is("agent_start_talking")).expect("restart");
    assert!(!between[..restart].iter().any(is("output_audio.delta")), "no audio after the interruption");

    // input_text.send interrupts too (R201).
    ws.until(&s, is("output_audio.delta")).await;
    ws.send(json!({"type": "input_text.send", "text": "Thanks, bye"})).await;
    ws.until(&s, is("interruption")).await;
    let log = {
        ws.send(json!({"type": "session.close"})).await;
        ws.closed(&s).await;
        post_call(&s, &ws.call_id()).await
    };
    let agent_lines: Vec<&str> = log["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .filter(|l| l["role"] == "agent")
        .filter_map(|l| l["content"].as_str())
        .collect();
    assert_eq!(agent_lines.first().copied(), Some(heard.as_str()), "{log}");
}

#[tokio::test]
async fn chat_mode_answers_text_with_transcripts_and_no_audio() {
    let (s, agent) = server().await;
    let token = register(&s, &agent, json!({"mode": "chat", "variables": {"customer_name": "Lin"}})).await;
    let mut ws = Session::open(&ws_url(&s, &format!("token={token}")), &[SCENARIO]).await;
    ws.send(json!({"type": "input_text.send", "text": "When are you open?"})).await;
    let greeting = ws.until(&s, is("transcript")).await;
    assert_eq!(greeting["role"], "assistant");
    let reply = ws.until(&s, is("transcript")).await;
    assert_eq!(
        (&reply["role"], &reply["text"]),
        (&json!("assistant"), &json!("We are open from nine to five, every day."))
    );
    assert_eq!(ws.until(&s, is("session.closed")).await["reason"], "ended");
    assert_eq!(ws.closed(&s).await, 1000);
    let kinds: Vec<&str> = ws.frames.iter().filter_map(|f| f["type"].as_str()).collect();
    assert_eq!(kinds, ["session.created", "transcript", "transcript", "session.closed"]);
    let log = post_call(&s, &ws.call_id()).await;
    let user = log["transcript"].as_array().expect("lines").iter().find(|l| l["role"] == "user").cloned();
    assert_eq!(user.map(|l| l["content"].clone()), Some(json!("When are you open?")));
}

#[tokio::test]
async fn bad_client_messages_get_error_frames_and_the_session_stays_open() {
    let (s, agent) = server().await;
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "&mode=chat")), &[]).await;
    ws.until(&s, is("session.created")).await;
    let bad = [
        (json!({"type": "input_audio_buffer.append"}).to_string(), "audio is required"),
        (json!({"type": "input_audio_buffer.append", "audio": "%%%"}).to_string(), "base64"),
        (json!({"type": "input_audio_buffer.append", "audio": "AAAA"}).to_string(), "PCM16"),
        (json!({"type": "input_text.send", "text": ""}).to_string(), "text"),
        (json!({"type": "response.create"}).to_string(), "unknown event type"),
        (json!({"text": "hi"}).to_string(), "type is required"),
        ("{not json".to_string(), "malformed JSON"),
    ];
    for (msg, needle) in bad {
        ws.ws.send(Message::text(msg.clone())).await.expect("send");
        let e = ws.until(&s, is("error")).await;
        assert_eq!(e["code"], "invalid_event", "{msg}");
        assert!(e["message"].as_str().is_some_and(|m| m.contains(needle)), "{msg}: {e}");
    }
    ws.ws.send(Message::binary(vec![0u8, 1])).await.expect("send");
    assert_eq!(ws.until(&s, is("error")).await["code"], "invalid_event");
    ws.send(json!({"type": "input_audio_buffer.commit"})).await;
    ws.send(json!({"type": "session.update", "session": {}})).await;
    ws.send(json!({"type": "session.close"})).await;
    assert_eq!(ws.until(&s, is("session.closed")).await["reason"], "client_requested");
    assert_eq!(ws.closed(&s).await, 1000);
    let errors = ws.frames.iter().filter(|f| f["type"] == "error").count();
    assert_eq!(errors, 8, "commit and session.update are silent no-ops");
}

#[tokio::test]
async fn messages_before_session_created_get_no_session() {
    let (s, agent) = server().await;
    s.admin(Method::PATCH, "/realtime", Some(json!({"setupMs": 1000}))).await;
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[]).await;
    ws.send(json!({"type": "input_text.send", "text": "hello?"})).await;
    let first = ws.until(&s, |_| true).await;
    assert_eq!((&first["type"], &first["code"]), (&json!("error"), &json!("no_session")));
    assert_eq!(ws.until(&s, |_| true).await["type"], "session.created");
}

#[tokio::test]
async fn every_close_path_ends_the_call_with_post_call_processing() {
    let (s, agent) = server().await;
    // session.close → session.closed {client_requested}, close 1000 (R203).
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[SCENARIO]).await;
    ws.until(&s, is("output_audio.delta")).await;
    ws.send(json!({"type": "session.close"})).await;
    assert_eq!(ws.until(&s, is("session.closed")).await["reason"], "client_requested");
    assert_eq!(ws.closed(&s).await, 1000);
    let log = post_call(&s, &ws.call_id()).await;
    assert_eq!((&log["status"], &log["disconnectionReason"]), (&json!("completed"), &json!("user_hangup")), "{log}");

    // A dropped socket ends the session as websocket_closed (R204).
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[SCENARIO]).await;
    ws.until(&s, is("session.created")).await;
    let call_id = ws.call_id();
    drop(ws);
    assert_eq!(post_call(&s, &call_id).await["status"], "completed");

    // The scenario's end → session.closed {ended} (R205).
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "&mode=chat")), &[SCENARIO]).await;
    ws.send(json!({"type": "input_text.send", "text": "Opening hours?"})).await;
    assert_eq!(ws.until(&s, is("session.closed")).await["reason"], "ended");
    assert_eq!(ws.closed(&s).await, 1000);
    let log = post_call(&s, &ws.call_id()).await;
    assert_eq!((&log["status"], &log["disconnectionReason"]), (&json!("completed"), &json!("agent_hangup")));

    // A fatal pipeline failure → error {code: "503"}, close 4000, no session.closed (R212).
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[("x-atoms-mock-scenario", "failed")]).await;
    assert_eq!(ws.until(&s, |_| true).await["type"], "session.created");
    let err = ws.until(&s, |_| true).await;
    assert_eq!((&err["type"], &err["code"]), (&json!("error"), &json!("503")));
    assert_eq!(ws.closed(&s).await, 4000);
    assert!(!ws.frames.iter().any(is("session.closed")));
    let log = post_call(&s, &ws.call_id()).await;
    assert_eq!(log["status"], "failed");

    // A cancel through the REST API ends the session too.
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[SCENARIO]).await;
    ws.until(&s, is("session.created")).await;
    let r = s.post("/conversation/cancel", KEY, json!({"callId": ws.call_id()})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ws.until(&s, is("session.closed")).await["reason"], "ended");
    assert_eq!(ws.closed(&s).await, 1000);
    assert_eq!(post_call(&s, &ws.call_id()).await["status"], "cancelled");
}

/// An agent step with `fromKnowledgeBase` (the built-in `kb-answer`
/// scenario) answers a realtime session from the knowledge base the
/// agent's config attaches, for what the user typed, and writes the
/// `knowledgebase` event, as a phone call running the scenario does.
#[tokio::test]
async fn a_realtime_session_answers_from_the_attached_knowledge_base() {
    let (s, agent) = server().await;
    let kb =
        s.post("/knowledgebase", KEY, json!({"name": "Policies"})).await.body["data"].as_str().expect("kb").to_string();
    let content = "Refunds take five business days to reach your card.\nShipping is free over fifty dollars.";
    let path = format!("/knowledgebase/{kb}/items/text?apiKey={KEY}");
    let r = s.admin(Method::POST, &path, Some(json!({"title": "Policies", "content": content}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    s.release(KEY, &agent, json!({"globalKnowledgeBaseId": kb})).await;
    let token = register(&s, &agent, json!({"mode": "chat"})).await;
    let mut ws = Session::open(&ws_url(&s, &format!("token={token}")), &[("x-atoms-mock-scenario", "kb-answer")]).await;
    ws.send(json!({"type": "input_text.send", "text": "How long do refunds take?"})).await;
    assert_eq!(ws.until(&s, is("transcript")).await["role"], "assistant", "the greeting");
    let reply = ws.until(&s, is("transcript")).await;
    assert_eq!(reply["text"], "Refunds take five business days to reach your card.", "{reply}");
    assert_eq!(ws.until(&s, is("session.closed")).await["reason"], "ended");
    let call_id = ws.call_id();
    post_call(&s, &call_id).await;
    let url = format!("{}/events?callId={call_id}", s.base());
    let sse = s.http.get(url).bearer_auth(KEY).send().await.expect("sse").text().await.expect("sse body");
    let event = sse.lines().find(|l| l.contains("\"knowledgebase\"")).expect("a knowledgebase event");
    assert!(event.contains(&kb) && event.contains("How long do refunds take?"), "{event}");
}
