//! Client tools on the realtime WebSocket (LIVE W1): a session declares a
//! tool, a scenario step or the default rule makes the agent call it, the
//! client answers and the agent's next turn uses the output; one test per
//! error code. Time moves only through the virtual clock; absence of a
//! frame is shown by a later frame the server sends in order, never by
//! sleeping.

use serde_json::{json, Value};

use crate::helpers::TestServer;
use crate::realtime::{is, post_call, raw_query, server_with, ws_url, Got, Session, KEY};

/// A greeting, the user's question, a scripted call of `lookup_order` with
/// the order id, an answer that fills the output's fields, a goodbye.
const TOOLS_SCENARIO: &str = r#"{
  "name": "rt-tools",
  "description": "Realtime tests: the agent looks an order up through a client tool.",
  "outcome": "completed",
  "disconnectReason": "agent_hangup",
  "turns": [
    {"agent": {"text": "Hi, how can I help?", "ttsDurationMs": 800, "latency": {"sttMs": 0, "llmMs": 100, "ttsMs": 0}}},
    {"user": {"text": "Where is my order A-1?", "durationMs": 800}},
    {"toolCall": {"name": "lookup_order", "arguments": {"order_id": "A-1"}}},
    {"agent": {"text": "Your order {{tool_output.order_id}} is {{tool_output.status}}.", "ttsDurationMs": 1200}},
    {"user": {"text": "Thanks, bye."}},
    {"agent": {"text": "Goodbye!"}}
  ]
}"#;

const SCENARIO: (&str, &str) = ("x-atoms-mock-scenario", "rt-tools");

/// The declared tool: one required string parameter, 2 s timeout.
fn lookup_order() -> Value {
    json!({
        "type": "function",
        "name": "lookup_order",
        "description": "Look up an order by id.",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string", "minLength": 1}},
                       "required": ["order_id"], "additionalProperties": false},
        "timeout_ms": 2000,
        "expectsResponse": true
    })
}

async fn setup() -> (TestServer, String) {
    server_with(&[("rt-tools", TOOLS_SCENARIO)]).await
}

/// Opens a session (`extra` query, `headers`), waits for `session.created`
/// and declares `tools`; returns the session and the answer frame.
async fn declare(s: &TestServer, agent: &str, extra: &str, headers: &[(&str, &str)], tools: Value) -> (Session, Value) {
    let mut ws = Session::open(&ws_url(s, &raw_query(agent, extra)), headers).await;
    ws.until(s, is("session.created")).await;
    ws.send(json!({"type": "session.update", "tools": tools})).await;
    let answer = ws.until(s, |f| f["type"] == "session.updated" || f["type"] == "error").await;
    (ws, answer)
}

/// The next frame matching `pred`, without moving the clock (for frames
/// the server sends at once); panics after 10 s of real time.
async fn next(ws: &mut Session, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        match ws.recv(10_000).await {
            Got::Frame(f) if pred(&f) => return f,
            Got::Frame(_) => {}
            Got::Closed(code) => panic!("closed ({code}) before a match"),
            Got::Idle => panic!("no matching frame within 10 s"),
        }
    }
}

fn assistant(f: &Value) -> bool {
    f["type"] == "transcript" && f["role"] == "assistant"
}

/// The call log's events of one type.
fn events<'a>(log: &'a Value, kind: &str) -> Vec<&'a Value> {
    log["events"].as_array().into_iter().flatten().filter(|e| e["event_type"] == kind).collect()
}

#[tokio::test]
async fn a_scenario_step_calls_a_declared_tool_and_the_agent_speaks_its_output() {
    let (s, agent) = setup().await;
    let (mut ws, updated) = declare(&s, &agent, "", &[SCENARIO], json!([lookup_order()])).await;
    assert_eq!(updated, json!({"type": "session.updated", "tools": ["lookup_order"]}));
    ws.until(&s, assistant).await;
    ws.send(json!({"type": "input_text.send", "text": "Where is my order A-1?"})).await;

    let call = next(&mut ws, is("function_call")).await;
    assert_eq!((&call["name"], &call["arguments"]), (&json!("lookup_order"), &json!({"order_id": "A-1"})));
    let call_id = call["call_id"].as_str().expect("call_id").to_string();
    assert!(call_id.starts_with("call_") && call_id.len() == 29, "{call_id}");
    let keys: Vec<&String> = call.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["type", "call_id", "name", "arguments"], "snake_case, type first");
    s.advance(0.25).await;
    let output = json!({"order_id": "A-1", "status": "out for delivery"}).to_string();
    ws.send(json!({"type": "function_call.result", "call_id": call_id, "output": output})).await;

    let from = ws.frames.len();
    let answer = ws.until(&s, assistant).await;
    assert_eq!(answer["text"], "Your order A-1 is out for delivery.");
    let turn = &ws.frames[from..];
    assert_eq!(turn[0]["type"], "agent_start_talking", "a spoken webcall turn");
    assert!(turn.iter().any(is("output_audio.delta")));

    ws.send(json!({"type": "session.close"})).await;
    assert_eq!(ws.closed(&s).await, 1000);
    let log = post_call(&s, &ws.call_id()).await;
    let start = events(&log, "tool_call_start");
    let end = events(&log, "tool_call_end");
    assert_eq!((start.len(), end.len()), (1, 1), "{log}");
    assert_eq!(start[0]["tool_call_id"], call_id.as_str());
    assert_eq!(start[0]["function_name"], "lookup_order");
    assert_eq!(start[0]["context"]["arguments"], json!({"order_id": "A-1"}));
    assert_eq!(end[0]["tool_call_id"], call_id.as_str());
    assert_eq!(end[0]["success"], true);
    assert_eq!(end[0]["latency_ms"], 250, "mock-clock time from function_call to the result");
    assert_eq!(end[0]["response"], json!({"order_id": "A-1", "status": "out for delivery"}));
    assert_eq!(start[0]["turn_id"], end[0]["turn_id"]);
    let lines: Vec<&str> =
        log["transcript"].as_array().expect("lines").iter().filter_map(|l| l["content"].as_str()).collect();
    assert!(lines.contains(&"Your order A-1 is out for delivery."), "{lines:?}");

    let url = format!("{}/events?callId={}", s.base(), ws.call_id());
    let sse = s.http.get(url).bearer_auth(KEY).send().await.expect("sse").text().await.expect("body");
    for kind in ["\"tool_call_start\"", "\"tool_call_end\""] {
        assert!(sse.contains(kind), "{kind} missing from the SSE replay");
    }
}

#[tokio::test]
async fn a_user_turn_naming_a_declared_tool_makes_the_agent_call_it_and_quote_the_output() {
    let (s, agent) = setup().await;
    // The default scenario (happy-path) has no toolCall step.
    let (mut ws, updated) = declare(&s, &agent, "&mode=chat", &[], json!([lookup_order()])).await;
    assert_eq!(updated["tools"], json!(["lookup_order"]));
    ws.send(json!({"type": "input_text.send", "text": "Can you lookup order 1234 for me?"})).await;
    let call = ws.until(&s, is("function_call")).await;
    assert_eq!(call["arguments"], json!({"order_id": "sample"}), "generated from the parameters");
    let output = r#"{"order_id": "1234", "status": "delivered"}"#;
    ws.send(json!({"type": "function_call.result", "call_id": call["call_id"], "output": output})).await;
    let answer = ws.until(&s, assistant).await;
    assert_eq!(answer["text"], r#"Here is what I found: {"order_id": "1234", "status": "delivered"}"#);
    let kinds: Vec<&str> = ws.frames.iter().filter_map(|f| f["type"].as_str()).collect();
    assert_eq!(kinds, ["session.created", "session.updated", "transcript", "function_call", "transcript"]);
}

#[tokio::test]
async fn a_name_the_agent_config_defines_is_tool_name_conflict() {
    let (s, _) = setup().await;
    let body = json!({"name": "Configured tools", "singlePromptConfig": {"prompt": "", "tools": [
        {"type": "end_call", "name": "end_call", "description": "End the call"},
        {"type": "api_call", "name": "lookup_order", "description": "Old lookup", "enabled": false}
    ]}});
    let r = s.post("/agent", KEY, body).await;
    let agent = r.body["data"].as_str().expect("agent id").to_string();
    let conflict = json!([lookup_order(), {"type": "function", "name": "end_call"}]);
    let (mut ws, err) = declare(&s, &agent, "&mode=chat", &[], conflict).await;
    assert_eq!((&err["type"], &err["code"]), (&json!("error"), &json!("tool_name_conflict")), "{err}");
    assert!(err["message"].as_str().is_some_and(|m| m.contains("'end_call'")), "{err}");
    // A disabled config tool does not conflict.
    ws.send(json!({"type": "session.update", "tools": [lookup_order()]})).await;
    assert_eq!(ws.until(&s, is("session.updated")).await["tools"], json!(["lookup_order"]));
}

#[tokio::test]
async fn an_agent_whose_config_manages_client_tools_refuses_runtime_ones() {
    let (s, _) = setup().await;
    let body = json!({"name": "Managed", "singlePromptConfig": {"prompt": "", "clientToolsManagedByConfig": true}});
    let agent = s.post("/agent", KEY, body).await.body["data"].as_str().expect("agent id").to_string();
    let (mut ws, err) = declare(&s, &agent, "&mode=chat", &[], json!([lookup_order()])).await;
    assert_eq!(err["code"], "client_tools_managed_by_config", "{err}");
    ws.send(json!({"type": "session.update", "tools": []})).await;
    assert_eq!(ws.until(&s, is("session.updated")).await["tools"], json!([]), "declaring nothing is fine");
}

#[tokio::test]
async fn bad_declarations_are_invalid_tools_and_leave_the_declared_set_alone() {
    let (s, agent) = setup().await;
    let (mut ws, updated) = declare(&s, &agent, "&mode=chat", &[SCENARIO], json!([lookup_order()])).await;
    assert_eq!(updated["type"], "session.updated");
    let bad = [
        (json!("lookup_order"), "tools: must be a list"),
        (json!([{"type": "function", "name": "a b"}]), "tools[0].name"),
        (json!([lookup_order(), lookup_order()]), "declared twice"),
        (
            json!([{"type": "function", "name": "x", "parameters": {"type": "object", "properties": {"n": {"$ref": "#/n"}}}}]),
            "$ref",
        ),
        (json!([{"type": "function", "name": "x", "parameters": {"type": "array"}}]), "parameters"),
        (Value::Array((0..33).map(|i| json!({"type": "function", "name": format!("t{i}")})).collect()), "at most 32"),
    ];
    for (tools, needle) in bad {
        ws.send(json!({"type": "session.update", "tools": tools})).await;
        let err = ws.until(&s, is("error")).await;
        assert_eq!(err["code"], "invalid_tools", "{tools}: {err}");
        assert!(err["message"].as_str().is_some_and(|m| m.contains(needle)), "{needle}: {err}");
    }
    // lookup_order is still declared: the scenario's step calls it.
    ws.send(json!({"type": "input_text.send", "text": "Where is my order A-1?"})).await;
    assert_eq!(ws.until(&s, is("function_call")).await["name"], "lookup_order");
}

#[tokio::test]
async fn no_result_within_timeout_ms_of_mock_time_is_tool_timeout_and_a_late_result_an_unknown_call_id() {
    let (s, agent) = setup().await;
    let (mut ws, _) = declare(&s, &agent, "&mode=chat", &[SCENARIO], json!([lookup_order()])).await;
    ws.until(&s, assistant).await;
    ws.send(json!({"type": "input_text.send", "text": "Where is my order A-1?"})).await;
    let call = next(&mut ws, is("function_call")).await;
    let call_id = call["call_id"].as_str().expect("call_id").to_string();

    s.advance(1.999).await;
    // A frame the server answers in order shows no tool_timeout came first.
    ws.send(json!({"type": "function_call.result", "call_id": "call_marker", "output": ""})).await;
    let marker = next(&mut ws, is("error")).await;
    assert_eq!(marker["code"], "unknown_call_id", "still waiting at 1.999 s: {marker}");
    s.advance(0.001).await;
    let timeout = next(&mut ws, is("error")).await;
    assert_eq!(timeout["code"], "tool_timeout", "{timeout}");
    assert!(timeout["message"].as_str().is_some_and(|m| m.contains(&call_id) && m.contains("2000 ms")), "{timeout}");
    let answer = ws.until(&s, assistant).await;
    assert_eq!(answer["text"], "Sorry, I could not get that information in time.", "no output to fill in");

    ws.send(json!({"type": "function_call.result", "call_id": call_id, "output": "late"})).await;
    let late = next(&mut ws, is("error")).await;
    assert_eq!(late["code"], "unknown_call_id");
    assert!(late["message"].as_str().is_some_and(|m| m.contains("timed out")), "{late}");
    ws.send(json!({"type": "session.close"})).await;
    ws.closed(&s).await;
    let log = post_call(&s, &ws.call_id()).await;
    let errors = events(&log, "tool_call_error");
    assert_eq!(errors.len(), 1, "{log}");
    assert_eq!((&errors[0]["error"]["code"], &errors[0]["success"]), (&json!("tool_timeout"), &json!(false)));
}

#[tokio::test]
async fn a_result_for_a_call_id_that_is_not_pending_is_unknown_call_id() {
    let (s, agent) = setup().await;
    let (mut ws, _) = declare(&s, &agent, "&mode=chat", &[], json!([lookup_order()])).await;
    ws.send(json!({"type": "function_call.result", "call_id": "call_000000000000000000000000", "output": "x"})).await;
    let err = next(&mut ws, is("error")).await;
    assert_eq!(err["code"], "unknown_call_id");
    ws.send(json!({"type": "function_call.result", "output": "x"})).await;
    assert_eq!(next(&mut ws, is("error")).await["code"], "invalid_event", "call_id is required");
}

#[tokio::test]
async fn an_output_over_64_kb_is_result_too_large_and_the_call_stays_pending() {
    let (s, agent) = setup().await;
    let (mut ws, _) = declare(&s, &agent, "&mode=chat", &[SCENARIO], json!([lookup_order()])).await;
    ws.send(json!({"type": "input_text.send", "text": "Where is my order A-1?"})).await;
    let call = ws.until(&s, is("function_call")).await;
    let too_big = "x".repeat(64 * 1024 + 1);
    ws.send(json!({"type": "function_call.result", "call_id": call["call_id"], "output": too_big})).await;
    let err = next(&mut ws, is("error")).await;
    assert_eq!(err["code"], "result_too_large");
    assert!(err["message"].as_str().is_some_and(|m| m.contains("65537 bytes")), "{err}");
    let fits = format!("{{\"order_id\": \"A-1\", \"status\": \"{}\"}}", "y".repeat(64 * 1024 - 33));
    assert_eq!(fits.len(), 64 * 1024, "exactly 64 KB is accepted");
    ws.send(json!({"type": "function_call.result", "call_id": call["call_id"], "output": fits})).await;
    let answer = ws.until(&s, assistant).await;
    assert!(answer["text"].as_str().is_some_and(|t| t.starts_with("Your order A-1 is yyy")), "{answer}");
    assert!(!ws.frames.iter().any(|f| f["code"] == "tool_timeout"));
}

#[tokio::test]
async fn a_fire_and_forget_tool_is_called_without_waiting_and_its_result_is_ignored() {
    let (s, agent) = setup().await;
    let notify = json!({"type": "function", "name": "lookup_order", "expectsResponse": false,
                        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}});
    let (mut ws, _) = declare(&s, &agent, "&mode=chat", &[SCENARIO], json!([notify])).await;
    ws.send(json!({"type": "input_text.send", "text": "Where is my order A-1?"})).await;
    let call = ws.until(&s, is("function_call")).await;
    assert_eq!(call["arguments"], json!({"order_id": "A-1"}));
    // The agent goes on at once: the next turn has no output to fill in.
    let answer = ws.until(&s, assistant).await;
    assert_eq!(answer["text"], "Your order {{tool_output.order_id}} is {{tool_output.status}}.");
    ws.send(json!({"type": "function_call.result", "call_id": call["call_id"], "output": "ok"})).await;
    ws.send(json!({"type": "function_call.result", "call_id": "call_marker", "output": ""})).await;
    let next_error = next(&mut ws, is("error")).await;
    assert_eq!(next_error["code"], "unknown_call_id");
    assert!(next_error["message"].as_str().is_some_and(|m| m.contains("call_marker")), "the late result was ignored");
}

#[tokio::test]
async fn a_scenario_step_for_an_undeclared_tool_is_skipped_with_a_warning() {
    let (s, agent) = setup().await;
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "&mode=chat")), &[SCENARIO]).await;
    ws.send(json!({"type": "input_text.send", "text": "Where is my order A-1?"})).await;
    ws.until(&s, assistant).await;
    let answer = ws.until(&s, assistant).await;
    assert_eq!(answer["text"], "Your order {{tool_output.order_id}} is {{tool_output.status}}.");
    assert!(!ws.frames.iter().any(is("function_call")));
    let call_id = ws.call_id();
    ws.send(json!({"type": "session.close"})).await;
    ws.closed(&s).await;
    let log = post_call(&s, &call_id).await;
    let warned = events(&log, "agent_log")
        .iter()
        .any(|e| e["metadata"]["message"].as_str().is_some_and(|m| m.contains("'lookup_order' is not declared")));
    assert!(warned, "{log}");
}
