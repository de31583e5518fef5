//! Every shipped scenario, run end to end on the virtual clock: the SSE
//! sequence (R126–R133), the final status and disconnect reason (R109,
//! R110), the transcript, the latency statistics (R112) and the post-call
//! analytics after their delay (R122, R218–R219). Scenarios are chosen
//! by all three documented means: the `x-atoms-mock-scenario` header,
//! the shipped phone assignments (+15005550001…8) and the control API.
//! Also: determinism under one seed, and queueing under a concurrency
//! limit (R108).

use atoms_mock::domain::time::parse_iso;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::*;
use crate::helpers::TestServer;

const KEY: &str = "sk_scenarios";
const PHONE: &str = "+14155550123";

/// How a test picks its scenario.
enum Pick<'a> {
    Header(&'a str),
    /// A shipped phone assignment.
    Phone(&'a str),
    /// `PUT /_admin/scenarios/agents/{id}`.
    AdminAgent(&'a str),
    /// `PUT /_admin/scenarios/default`.
    AdminDefault(&'a str),
}

/// What one finished call looked like.
struct Run {
    frames: Vec<String>,
    detail: Value,
    /// Detail once analytics had time to arrive.
    later: Value,
}

/// Places a call chosen by `pick`, follows `/events` from before the
/// dial to the end, and checks analytics appear only after 15 s.
async fn run(s: &TestServer, agent: &str, pick: Pick<'_>) -> Run {
    let (phone, header) = match pick {
        Pick::Header(n) => (PHONE, Some(n)),
        Pick::Phone(p) => (p, None),
        Pick::AdminAgent(n) => {
            let r = s.admin(Method::PUT, &format!("/scenarios/agents/{agent}"), Some(json!({"scenario": n}))).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            (PHONE, None)
        }
        Pick::AdminDefault(n) => {
            let r = s.admin(Method::PUT, "/scenarios/default", Some(json!({"scenario": n}))).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            (PHONE, None)
        }
    };
    let call_id = outbound(s, KEY, agent, phone, header).await;
    let stream = subscribe(s, KEY, &call_id).await;
    let detail = run_to_end(s, KEY, &call_id, 120).await;
    let frames = stream.all().await;
    let ended = detail["endedAt"].as_str().and_then(parse_iso).expect("endedAt");
    assert!(detail["postCallAnalytics"].is_null(), "analytics before the delay (R122)");
    let wait_ms = ended + 15_000 - now_ms(s).await;
    s.advance((wait_ms - 1) as f64 / 1000.0).await;
    assert!(self::detail(s, KEY, &call_id).await["postCallAnalytics"].is_null(), "1 ms early");
    s.advance(0.001).await;
    let later = self::detail(s, KEY, &call_id).await;
    Run { frames, detail, later }
}

/// The agent speaks without a user turn before it (a greeting).
const OPENING: &[&str] = &["llm_full_response_end", "metrics", "tts_completed"];
/// The agent answers a user turn (R133: `turn_latency` with `metrics`).
const ANSWER: &[&str] = &["llm_full_response_end", "turn_latency", "metrics", "tts_completed"];
/// A connected call ends and its recording is announced.
const CLOSING: &[&str] = &["call_end", "call_recording"];

/// A user turn: `interims` interim transcripts, then the final one.
fn user(interims: usize) -> Vec<String> {
    let interim = if interims == 1 {
        "user_interim_transcription".to_string()
    } else {
        format!("user_interim_transcription*{interims}")
    };
    vec![interim, "user_transcription".into()]
}

fn strs(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_string()).collect()
}

fn check_stream(r: &Run, expected: &[Vec<String>]) {
    let expected = expected.concat();
    let sse = types(&r.frames);
    let log = log_types(&r.detail);
    assert_eq!(sse.first().map(String::as_str), Some("sse_init"));
    assert_eq!(sse.last().map(String::as_str), Some("sse_close"));
    // The call log also records `llm_full_response_end`; the stream
    // carries the spec's event types only (R129).
    let streamed: Vec<String> =
        streamed(&r.detail).iter().filter_map(|e| e["event_type"].as_str().map(String::from)).collect();
    assert_eq!(sse[1..sse.len() - 1], streamed[..], "SSE and the call log read one history");
    assert!(log.iter().any(|t| t == "llm_full_response_end"), "the log keeps the LLM's turns: {log:?}");
    assert_eq!(shape(&log), expected, "event order");
    let ts: Vec<&str> =
        r.detail["events"].as_array().into_iter().flatten().filter_map(|e| e["timestamp"].as_str()).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "timestamps never go backwards");
}

fn check_end(r: &Run, status: &str, reason: &str, failure: &Value) {
    assert_eq!(r.detail["status"], status);
    assert_eq!(r.detail["disconnectionReason"], reason);
    assert_eq!(&r.detail["callFailureReason"], failure);
}

fn check_latency(r: &Run, latencies: &[u64]) {
    let m = &r.detail["turnLatencyMetrics"];
    if latencies.is_empty() {
        assert!(m.is_null(), "{m}");
        return;
    }
    let sum: u64 = latencies.iter().sum();
    assert_eq!(m["latencies"], json!(latencies));
    assert_eq!(m["turns"], latencies.len());
    assert_eq!(m["avgLatency"].as_f64(), Some(sum as f64 / latencies.len() as f64));
    assert_eq!(m["minLatency"], json!(latencies.iter().min()));
    assert_eq!(m["maxLatency"], json!(latencies.iter().max()));
    let from_events: Vec<Value> = r.detail["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["event_type"] == "turn_latency")
        .map(|e| e["total_turn_ms"].clone())
        .collect();
    assert_eq!(json!(from_events), json!(latencies), "turn_latency events agree with turnLatencyMetrics");
}

/// `postCallAnalytics` as `(summary, [(identifier, value, confidence)])`
/// and the list row's string map (R219).
fn check_analytics(r: &Run, summary: &str, metrics: &[(&str, &str, f64)]) {
    let a = &r.later["postCallAnalytics"];
    assert_eq!(a["summary"], summary);
    let got: Vec<(String, String, f64)> = a["dispositionMetrics"]
        .as_array()
        .expect("dispositionMetrics")
        .iter()
        .map(|m| {
            (
                m["identifier"].as_str().unwrap_or("").to_string(),
                m["value"].as_str().expect("string value (L-K1)").to_string(),
                m["confidence"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    let want: Vec<(String, String, f64)> = metrics.iter().map(|(i, v, c)| ((*i).into(), (*v).into(), *c)).collect();
    assert_eq!(got, want);
}

fn lines(r: &Run) -> Vec<(String, String)> {
    transcript(&r.detail)
}

fn said(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(r, c)| ((*r).to_string(), (*c).to_string())).collect()
}

const GREETING: &str = "Hi Ada, this is Acme.";

#[tokio::test]
async fn happy_path_runs_greeting_two_turns_and_analytics_from_the_header() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "happy").await;
    let r = run(&s, &agent, Pick::Header("happy-path")).await;
    check_stream(
        &r,
        &[strs(&["call_start"]), strs(OPENING), user(9), strs(ANSWER), user(5), strs(ANSWER), strs(CLOSING)],
    );
    check_end(&r, "completed", "user_hangup", &Value::Null);
    assert_eq!(
        lines(&r),
        said(&[
            ("agent", GREETING),
            ("user", "Hi, I'd like to check the status of my order."),
            ("agent", "Of course, Ada. Your order shipped yesterday and arrives on Friday."),
            ("user", "Great, that's all I needed. Thanks!"),
            ("agent", "You're welcome. Have a great day!"),
        ])
    );
    check_latency(&r, &[860, 740]);
    assert_eq!(r.detail["turnLatencyMetrics"]["medianLatency"].as_f64(), Some(800.0));
    check_analytics(
        &r,
        "The caller asked about an order; the agent confirmed it ships Friday.",
        &[("call_resolved", "true", 0.96), ("customer_sentiment", "positive", 0.88), ("score", "0", 0.5)],
    );
    assert_eq!(r.detail["callCost"], 0.18);
    assert_eq!(r.detail["scenario"], "happy-path");
    assert_eq!(r.detail["variables"]["order"], 4417);
}

#[tokio::test]
async fn workflow_hops_emit_node_states_and_hops_for_a_workflow_graph_agent() {
    let s = TestServer::start().await;
    let agent = workflow_agent(&s, KEY, "flow").await;
    let r = run(&s, &agent, Pick::Phone("+15005550007")).await;
    let node = || strs(&["agent_node_state"]);
    let hop = || strs(&["hopping", "agent_node_state"]);
    check_stream(
        &r,
        &[
            strs(&["call_start"]),
            node(),
            strs(OPENING),
            user(1),
            hop(),
            strs(ANSWER),
            user(3),
            hop(),
            strs(ANSWER),
            strs(CLOSING),
        ],
    );
    let hops: Vec<(Value, Value)> = r.detail["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["event_type"] == "hopping")
        .map(|e| (e["from_node_id"].clone(), e["to_node_id"].clone()))
        .collect();
    assert_eq!(hops, [(json!("10001"), json!("10002")), (json!("10002"), json!("10003"))]);
    check_end(&r, "completed", "agent_hangup", &Value::Null);
    assert_eq!(lines(&r)[0], ("agent".to_string(), "Hi, this is Ava from Acme. Am I speaking with Ada?".to_string()));
    assert_eq!(lines(&r).len(), 5);
    check_latency(&r, &[900, 740]);
    check_analytics(
        &r,
        "Lead confirmed identity and booked a Thursday afternoon demo.",
        &[("call_resolved", "true", 0.93), ("customer_sentiment", "positive", 0.5), ("score", "0", 0.5)],
    );
}

/// Scenarios that never connect: one `call_end`, no transcript, no
/// latency, no recording and no analytics.
async fn never_connects(pick: Pick<'_>, status: &str, reason: &str, failure: &str) {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "dial").await;
    let call_id = match pick {
        Pick::Phone(p) => outbound(&s, KEY, &agent, p, None).await,
        Pick::Header(n) => outbound(&s, KEY, &agent, PHONE, Some(n)).await,
        Pick::AdminAgent(n) => {
            s.admin(Method::PUT, &format!("/scenarios/agents/{agent}"), Some(json!({"scenario": n}))).await;
            outbound(&s, KEY, &agent, PHONE, None).await
        }
        Pick::AdminDefault(n) => {
            s.admin(Method::PUT, "/scenarios/default", Some(json!({"scenario": n}))).await;
            outbound(&s, KEY, &agent, PHONE, None).await
        }
    };
    let stream = subscribe(&s, KEY, &call_id).await;
    let d = run_to_end(&s, KEY, &call_id, 60).await;
    assert_eq!(types(&stream.all().await), ["sse_init", "call_end", "sse_close"]);
    assert_eq!(log_types(&d), ["call_end"]);
    let r = Run { frames: Vec::new(), detail: d.clone(), later: Value::Null };
    check_end(&r, status, reason, &json!(failure));
    assert_eq!(d["events"][0]["metadata"]["call_status"], status);
    assert!(lines(&r).is_empty());
    check_latency(&r, &[]);
    assert_eq!(
        (d["duration"].clone(), d["recordingUrl"].clone(), d["callCost"].clone()),
        (json!(0), Value::Null, json!(0.0))
    );
    s.advance(60.0).await;
    assert!(detail(&s, KEY, &call_id).await["postCallAnalytics"].is_null(), "no analytics without a conversation");
}

#[tokio::test]
async fn no_answer_rings_out_with_dial_no_answer_via_the_phone_assignment() {
    never_connects(Pick::Phone("+15005550001"), "no_answer", "dial_no_answer", "No answer").await;
}

#[tokio::test]
async fn busy_fails_with_connection_error_via_an_agent_assignment() {
    never_connects(Pick::AdminAgent("busy"), "failed", "connection_error", "busy").await;
}

#[tokio::test]
async fn failed_to_connect_via_the_header() {
    never_connects(Pick::Header("failed"), "failed", "connection_error", "Failed to connect").await;
}

#[tokio::test]
async fn voicemail_leaves_the_message_and_the_agent_hangs_up() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "vm").await;
    let r = run(&s, &agent, Pick::Phone("+15005550004")).await;
    check_stream(&r, &[strs(&["call_start"]), user(12), strs(&["agent_log"]), strs(ANSWER), strs(CLOSING)]);
    check_end(&r, "completed", "agent_hangup", &Value::Null);
    assert_eq!(
        lines(&r),
        said(&[
            ("user", "You've reached the voicemail of Ada. Please leave a message after the tone."),
            ("agent", "Terminating call, you can call us back anytime. Thank you for calling."),
        ])
    );
    check_latency(&r, &[390]);
    check_analytics(
        &r,
        "Reached voicemail; left the standard message.",
        &[("call_resolved", "false", 0.99), ("customer_sentiment", "positive", 0.5), ("score", "0", 0.5)],
    );
}

#[tokio::test]
async fn user_interrupts_cut_the_agent_short_and_flag_the_turn_via_the_server_default() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "barge").await;
    let r = run(&s, &agent, Pick::AdminDefault("user-interrupts")).await;
    check_stream(
        &r,
        &[strs(&["call_start"]), strs(OPENING), user(4), strs(ANSWER), user(3), strs(ANSWER), strs(CLOSING)],
    );
    check_end(&r, "completed", "user_hangup", &Value::Null);
    let flags: Vec<Value> = r.detail["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["event_type"] == "turn_latency")
        .map(|e| e["interrupted"].clone())
        .collect();
    assert_eq!(flags, [json!(true), json!(false)]);
    assert_eq!(lines(&r)[2].1, "We are open Monday to Friday from nine to six, Saturdays");
    assert_eq!(lines(&r)[3].1, "Sorry, just Saturday please.");
    check_latency(&r, &[810, 810]);
    check_analytics(
        &r,
        "Caller interrupted to ask only for Saturday hours.",
        &[("call_resolved", "false", 0.5), ("customer_sentiment", "positive", 0.5), ("score", "0", 0.5)],
    );
}

#[tokio::test]
async fn agent_logs_and_errors_appear_mid_call_with_their_metadata() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "logs").await;
    let r = run(&s, &agent, Pick::Header("agent-logs-errors")).await;
    let logs = strs(&["agent_log", "agent_error", "agent_log"]);
    check_stream(&r, &[strs(&["call_start"]), strs(OPENING), user(5), logs, strs(ANSWER), strs(CLOSING)]);
    let err = r.detail["events"].as_array().into_iter().flatten().find(|e| e["event_type"] == "agent_error");
    let err = err.expect("agent_error");
    assert_eq!(err["metadata"]["code"], "TOOL_TIMEOUT");
    assert_eq!(err["metadata"]["details"]["orderId"], "4417");
    check_end(&r, "completed", "agent_hangup", &Value::Null);
    check_latency(&r, &[2040]);
    check_analytics(
        &r,
        "Order lookup failed; a callback was promised.",
        &[("call_resolved", "false", 0.8), ("customer_sentiment", "positive", 0.5), ("score", "0", 0.5)],
    );
}

#[tokio::test]
async fn user_cancels_ends_cancelled_with_call_cancelled_before_call_end() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "bye").await;
    let r = run(&s, &agent, Pick::Phone("+15005550008")).await;
    let cancelled = strs(&["call_cancelled"]);
    check_stream(&r, &[strs(&["call_start"]), strs(OPENING), user(2), cancelled, strs(CLOSING)]);
    check_end(&r, "cancelled", "user_hangup", &Value::Null);
    assert_eq!(lines(&r), said(&[("agent", GREETING), ("user", "Not interested, bye.")]));
    check_latency(&r, &[]);
    check_analytics(
        &r,
        "",
        &[("call_resolved", "false", 0.5), ("customer_sentiment", "positive", 0.5), ("score", "0", 0.5)],
    );
}

#[tokio::test]
async fn an_unknown_scenario_header_is_a_400_and_places_nothing() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "typo").await;
    let r = outbound_reply(&s, KEY, &agent, PHONE, Some("happy_path")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().contains("happy_path"), "{}", r.error());
    let list = s.get("/conversation?callAttemptFilter=all", KEY).await;
    assert_eq!(list.body["data"]["pagination"]["total"], 0);
}

#[tokio::test]
async fn the_control_api_lists_scenarios_and_edits_assignments() {
    let s = TestServer::start().await;
    let r = s.admin(Method::GET, "/scenarios", None).await;
    let names: Vec<&str> =
        r.body["scenarios"].as_array().expect("list").iter().filter_map(|x| x["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "agent-logs-errors",
            "busy",
            "client-tools",
            "failed",
            "happy-path",
            "kb-answer",
            "no-answer",
            "opt-out",
            "user-cancels",
            "user-interrupts",
            "voicemail",
            "workflow-hops"
        ]
    );
    assert_eq!(r.body["scenarios"][1]["outcome"], "busy");
    assert_eq!(r.body["assignments"]["byPhone"]["+15005550001"], "no-answer");
    let phone = s.admin(Method::PUT, "/scenarios/phones/+15551234567", Some(json!({"scenario": "voicemail"}))).await;
    assert_eq!(phone.body["byPhone"]["+15551234567"], "voicemail");
    let gone = s.admin(Method::DELETE, "/scenarios/phones/+15005550001", None).await;
    assert!(gone.body["byPhone"].get("+15005550001").is_none());
    let agent = s.admin(Method::PUT, "/scenarios/agents/abc", Some(json!({"scenario": "busy"}))).await;
    assert_eq!(agent.body["byAgent"]["abc"], "busy");
    assert!(s.admin(Method::DELETE, "/scenarios/agents/abc", None).await.body["byAgent"].get("abc").is_none());
    for (method, path, body) in [
        (Method::PUT, "/scenarios/default", json!({"scenario": "nope"})),
        (Method::PUT, "/scenarios/default", json!({})),
        (Method::PUT, "/scenarios/agents/abc", json!({"scenario": "nope"})),
        (Method::PUT, "/scenarios/phones/+15551234567", json!({"scenario": "nope"})),
        (Method::PUT, "/scenarios/phones/12345", json!({"scenario": "busy"})),
        (Method::PUT, "/scenarios/assignments", json!({"default": "nope"})),
        (Method::PUT, "/scenarios/assignments", json!({"default": "busy", "byPhones": {}})),
    ] {
        let r = s.admin(method, path, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert_eq!(r.body["status"], false, "{}", r.text);
    }
    let whole = json!({"default": "busy", "byAgent": {}, "byPhone": {"+15005550002": "happy-path"}});
    let r = s.admin(Method::PUT, "/scenarios/assignments", Some(whole.clone())).await;
    assert_eq!(r.body, whole);
    assert_eq!(s.admin(Method::GET, "/scenarios", None).await.body["assignments"], whole);
    s.admin(Method::POST, "/reset", None).await;
    assert_eq!(s.admin(Method::GET, "/scenarios", None).await.body["assignments"]["default"], "happy-path");
}

/// Replaces the server's own address so two servers can be compared.
fn normalize(s: &TestServer, text: &str) -> String {
    text.replace(&s.root(), "http://MOCK")
}

async fn scripted_session(s: &TestServer) -> (String, Vec<String>, String) {
    let agent = agent(s, KEY, "same").await;
    let call_id = outbound(s, KEY, &agent, PHONE, Some("agent-logs-errors")).await;
    let stream = subscribe(s, KEY, &call_id).await;
    run_to_end(s, KEY, &call_id, 60).await;
    s.advance(20.0).await;
    let frames = stream.all().await.iter().map(|f| normalize(s, f)).collect();
    let body = normalize(s, &s.get(&format!("/conversation/{call_id}"), KEY).await.text);
    (call_id, frames, body)
}

#[tokio::test]
async fn two_servers_with_the_same_seed_produce_byte_identical_logs_and_frames() {
    let (a, b) = (TestServer::start().await, TestServer::start().await);
    let (id_a, frames_a, body_a) = scripted_session(&a).await;
    let (id_b, frames_b, body_b) = scripted_session(&b).await;
    assert_eq!(id_a, id_b);
    assert_eq!(frames_a, frames_b);
    assert_eq!(body_a, body_b);
    assert!(body_a.contains("\"postCallAnalytics\":{"), "{body_a}");
}

#[tokio::test]
async fn with_a_limit_of_one_the_second_call_queues_then_runs_when_the_first_ends() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "queue").await;
    let r = s.admin(Method::PUT, &format!("/concurrency?apiKey={KEY}"), Some(json!({"limit": 1}))).await;
    assert_eq!(r.body["limit"], 1, "{}", r.text);
    let first = outbound(&s, KEY, &agent, PHONE, None).await;
    let second = outbound(&s, KEY, &agent, PHONE, None).await;
    s.advance(0.0).await;
    assert_eq!(detail(&s, KEY, &first).await["status"], "in_progress");
    assert_eq!(detail(&s, KEY, &second).await["status"], "in_queue");
    let load = s.admin(Method::GET, &format!("/concurrency?apiKey={KEY}"), None).await;
    assert_eq!((load.body["running"].clone(), load.body["queued"].clone()), (json!(1), json!(1)));
    let ended = run_to_end(&s, KEY, &first, 60).await;
    let started = detail(&s, KEY, &second).await;
    assert_eq!(started["status"], "in_progress");
    assert_eq!(started["startedAt"], ended["endedAt"], "dispatched the moment the slot freed");
    run_to_end(&s, KEY, &second, 60).await;
    assert_eq!(detail(&s, KEY, &second).await["status"], "completed");
    for bad in [json!({"limit": 0}), json!({"limit": "2"}), json!({})] {
        let r = s.admin(Method::PUT, &format!("/concurrency?apiKey={KEY}"), Some(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(s.admin(Method::GET, "/concurrency", None).await.status, StatusCode::BAD_REQUEST);
}
