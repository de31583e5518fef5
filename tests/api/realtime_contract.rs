//! The realtime WebSocket against its contracts: every server frame type of
//! a recorded session validates against its message schema in the
//! platform's AsyncAPI document; the mock's own AsyncAPI document
//! (`asyncapi/atoms-mock-ws.yaml`, which adds the client-tools messages of
//! LIVE W1) lists exactly the protocol's message types and validates the
//! frames of a session with client tools too; and a Python client built on
//! the `websockets` package runs a session (connect, text, close) and a
//! client-tools exchange as third-party clients will.

use std::collections::BTreeSet;
use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::TestServer;
use crate::realtime::{is, raw_query, server, ws_url, Session};
use crate::sdk_contract::{ensure_venv, repo_root, report, run};

/// The pinned `websockets` release.
const WEBSOCKETS_VERSION: &str = "13.1";

/// `schema` as the contract means it, and stricter than JSON Schema's
/// default: an object schema without `additionalProperties` allows no
/// property it does not declare (the frames must say nothing the document
/// does not).
fn closed(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map.iter().map(|(k, v)| (k.clone(), closed(v))).collect();
            if out.contains_key("properties") && !out.contains_key("additionalProperties") {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(closed).collect()),
        other => other.clone(),
    }
}

/// Checks `v` against a message payload schema of the AsyncAPI documents
/// (JSON Schema draft 7, formats such as `date-time` checked) with the
/// `jsonschema` crate, closed as [`closed`] says; returns every violation
/// as `<path><json pointer>: <problem>`.
fn violations(schema: &Value, v: &Value, path: &str) -> Vec<String> {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&closed(schema))
        .unwrap_or_else(|e| panic!("{path}: the payload schema does not compile: {e}"));
    validator.iter_errors(v).map(|e| format!("{path}{}: {e}", e.instance_path())).collect()
}

/// Server-to-client payload schemas by message `type`.
fn server_schemas(doc: &Value) -> Vec<(String, Value)> {
    schemas(doc, "receive")
}

/// Payload schemas by message `type` of the operations with `action`
/// (`send`: client to server; `receive`: server to client).
fn schemas(doc: &Value, action: &str) -> Vec<(String, Value)> {
    let ops = doc["operations"].as_object().expect("operations");
    let received: BTreeSet<String> = ops
        .values()
        .filter(|o| o["action"] == action)
        .flat_map(|o| o["messages"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m["$ref"].as_str().and_then(|r| r.rsplit('/').next()).map(str::to_string))
        .collect();
    received
        .iter()
        .map(|name| {
            let payload = doc["components"]["messages"][name]["payload"].clone();
            (payload["properties"]["type"]["const"].as_str().expect("type const").to_string(), payload)
        })
        .collect()
}

/// A webcall session that emits every server frame type.
async fn record_session(s: &TestServer, agent: &str) -> Vec<Value> {
    let q = format!("token=sk_realtime_tests&agent_id={agent}&sample_rate=8000");
    let mut ws = Session::open(&ws_url(s, &q), &[("x-atoms-mock-scenario", "rt-two-turns")]).await;
    ws.until(s, |f| f["type"] == "transcript.delta" && f["text"].as_str().is_some_and(|t| t.contains(' '))).await;
    ws.speak(8000, 100, true).await;
    ws.until(s, is("transcript")).await;
    ws.send(json!({"type": "input_audio_buffer.append"})).await;
    ws.until(s, is("error")).await;
    ws.send(json!({"type": "session.close"})).await;
    ws.closed(s).await;
    ws.frames
}

#[tokio::test]
async fn every_server_frame_validates_against_the_asyncapi_document() {
    let Some(text) = crate::prereq::reference("realtime_contract", "upstream/atoms-agent-ws.asyncapi.yaml") else {
        return;
    };
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("AsyncAPI YAML parses");
    let doc: Value = serde_json::to_value(yaml).expect("YAML as JSON");
    let schemas = server_schemas(&doc);
    assert_eq!(schemas.len(), 9, "nine server messages in the document");

    let (s, agent) = server().await;
    let frames = record_session(&s, &agent).await;
    let mut seen = BTreeSet::new();
    for f in &frames {
        let kind = f["type"].as_str().expect("type");
        let (_, schema) = schemas.iter().find(|(k, _)| k == kind).unwrap_or_else(|| panic!("{kind} is not documented"));
        let errs = violations(schema, f, kind);
        assert!(errs.is_empty(), "{f} violates its schema: {errs:?}");
        seen.insert(kind.to_string());
    }
    let all: BTreeSet<String> = schemas.into_iter().map(|(k, _)| k).collect();
    assert_eq!(seen, all, "the recorded session emits every server frame type");
}

/// Checks every frame against the schema of its `type`; returns the types
/// seen.
fn check_frames(schemas: &[(String, Value)], frames: &[Value]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for f in frames {
        let kind = f["type"].as_str().expect("type");
        let (_, schema) = schemas.iter().find(|(k, _)| k == kind).unwrap_or_else(|| panic!("{kind} is not documented"));
        let errs = violations(schema, f, kind);
        assert!(errs.is_empty(), "{f} violates its schema: {errs:?}");
        seen.insert(kind.to_string());
    }
    seen
}

/// A chat session on the shipped `client-tools` scenario that declares a
/// tool (once invalidly), answers the agent's call and closes; returns the
/// client messages sent and the frames received.
async fn record_tools_session(s: &TestServer, agent: &str) -> (Vec<Value>, Vec<Value>) {
    let url = ws_url(s, &raw_query(agent, "&mode=chat"));
    let mut ws = Session::open(&url, &[("x-atoms-mock-scenario", "client-tools")]).await;
    ws.until(s, is("session.created")).await;
    let tool = json!({"type": "function", "name": "lookup_order", "description": "Look up an order.",
                      "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
                      "timeout_ms": 15000, "expectsResponse": true});
    let mut sent = vec![
        json!({"type": "session.update", "tools": [{"type": "function", "name": "bad name"}]}),
        json!({"type": "session.update", "tools": [tool]}),
        json!({"type": "input_text.send", "text": "Can you check my order?"}),
    ];
    for m in &sent {
        ws.send(m.clone()).await;
    }
    let call = ws.until(s, is("function_call")).await;
    let result =
        json!({"type": "function_call.result", "call_id": call["call_id"], "output": "{\"status\": \"shipped\"}"});
    ws.send(result.clone()).await;
    let answer =
        ws.until(s, |f| f["type"] == "transcript" && f["text"].as_str().is_some_and(|t| t.contains("shipped"))).await;
    assert_eq!(answer["text"], r#"Here is what I found: {"status": "shipped"}"#);
    ws.send(json!({"type": "session.close"})).await;
    ws.closed(s).await;
    sent.extend([result, json!({"type": "session.close"})]);
    (sent, ws.frames)
}

#[tokio::test]
async fn the_mocks_own_asyncapi_document_lists_the_protocol_and_validates_recorded_frames() {
    let text = std::fs::read_to_string(repo_root().join("asyncapi/atoms-mock-ws.yaml")).expect("the document exists");
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("AsyncAPI YAML parses");
    let doc: Value = serde_json::to_value(yaml).expect("YAML as JSON");
    assert_eq!(doc["asyncapi"], "3.0.0");
    let (server_side, client_side) = (schemas(&doc, "receive"), schemas(&doc, "send"));
    let names = |s: &[(String, Value)]| s.iter().map(|(k, _)| k.clone()).collect::<BTreeSet<String>>();
    let protocol = |t: &[&str]| t.iter().map(|k| k.to_string()).collect::<BTreeSet<String>>();
    assert_eq!(names(&server_side), protocol(&atoms_mock::realtime::protocol::SERVER_TYPES));
    assert_eq!(names(&client_side), protocol(&atoms_mock::realtime::protocol::CLIENT_TYPES));

    let (s, agent) = server().await;
    let mut seen = check_frames(&server_side, &record_session(&s, &agent).await);
    let (sent, frames) = record_tools_session(&s, &agent).await;
    seen.extend(check_frames(&server_side, &frames));
    // The first message names a tool `bad name` on purpose (to draw
    // `invalid_tools`): the document refuses it for that name, and only for
    // that; every other message the client sent validates.
    let (_, update) = client_side.iter().find(|(k, _)| k == "session.update").expect("session.update is documented");
    let refused = violations(update, &sent[0], "session.update");
    assert!(refused.len() == 1 && refused[0].contains("/tools/0/name"), "{refused:?}");
    check_frames(&client_side, &sent[1..]);
    assert_eq!(seen, names(&server_side), "the recorded sessions emit every server frame type");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_websockets_client_runs_a_session() {
    if std::env::var("ATOMS_MOCK_SKIP_SDK").as_deref() == Ok("1") {
        eprintln!("realtime_contract: python test skipped (ATOMS_MOCK_SKIP_SDK=1)");
        return;
    }
    if crate::prereq::python3("realtime_contract: python test").is_none() {
        return;
    }
    // A real clock, so the client needs nothing but the WebSocket.
    let mut config = atoms_mock::Config::for_tests();
    config.clock = atoms_mock::clock::ClockMode::Real;
    let s = TestServer::with_config(config).await;
    let key = "sk_python_client";
    let agent = s.create_agent(key, "Python client agent").await;
    let r = s.admin(Method::GET, "/realtime", None).await;
    assert_eq!(r.body["draining"], false);
    let base = s.base();
    let out = tokio::task::spawn_blocking(move || {
        let python = ensure_venv("ws-venv", "websockets", WEBSOCKETS_VERSION)?;
        run(Command::new(python)
            .arg(repo_root().join("tests/contract/realtime_ws.py"))
            .env("ATOMS_MOCK_BASE", base)
            .env("ATOMS_MOCK_KEY", key)
            .env("ATOMS_MOCK_AGENT", agent)
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1"))
    })
    .await
    .expect("python task")
    .unwrap_or_else(|e| panic!("python setup failed:\n{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(out.status.success(), "{}", report("realtime_ws.py", &out));
    assert!(stdout.contains("PASS realtime websockets"), "{stdout}");
}
