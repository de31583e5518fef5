//! Helpers for the call tests: agents with disposition metrics, placing
//! calls, reading `/events` with eventsource-stream, and driving the
//! virtual clock to a call's end. Nothing here sleeps for real.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestServer};

/// Upper bound for any wait on the server (no test should come close).
pub const WAIT: Duration = Duration::from_secs(20);

/// The disposition metrics every call-test agent configures (§K).
pub fn metrics_config() -> Value {
    json!({"dispositionMetrics": [
        {"identifier": "call_resolved", "dispositionMetricPrompt": "Was it resolved?", "dispositionMetricType": "BOOLEAN"},
        {"identifier": "customer_sentiment", "dispositionMetricPrompt": "Mood?", "dispositionMetricType": "ENUM",
         "choices": ["positive", "neutral", "negative"]},
        {"identifier": "score", "dispositionMetricPrompt": "1-10", "dispositionMetricType": "INTEGER"}
    ]})
}

/// Creates a single-prompt agent with [`metrics_config`], a greeting that
/// uses a variable, and `defaultVariables`; returns its id.
pub async fn agent(s: &TestServer, key: &str, name: &str) -> String {
    create(s, key, json!({"name": name})).await
}

/// Creates a `workflow_graph` agent (with a graph) like [`agent`].
pub async fn workflow_agent(s: &TestServer, key: &str, name: &str) -> String {
    let graph = json!({"nodes": [{"id": "10001", "type": "default"}, {"id": "10002"}, {"id": "10003"}], "edges": []});
    create(s, key, json!({"name": name, "workflowType": "workflow_graph", "workflowGraph": graph})).await
}

async fn create(s: &TestServer, key: &str, mut body: Value) -> String {
    body["postCallAnalyticsConfig"] = metrics_config();
    body["firstMessage"] = json!("Hi {{customer_name}}, this is {{company_name}}.");
    body["defaultVariables"] = json!({"customer_name": "Ada", "company_name": "Acme"});
    let r = s.post("/agent", key, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["data"].as_str().expect("agent id").to_string()
}

/// `POST /conversation/outbound` to `phone`, with the scenario header
/// when `scenario` is given; returns the reply.
pub async fn outbound_reply(s: &TestServer, key: &str, agent: &str, phone: &str, scenario: Option<&str>) -> Reply {
    let mut req = s
        .http
        .post(format!("{}/conversation/outbound", s.base()))
        .bearer_auth(key)
        .json(&json!({"agentId": agent, "phoneNumber": phone, "variables": {"order": 4417}}));
    if let Some(name) = scenario {
        req = req.header("x-atoms-mock-scenario", name);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = res.text().await.expect("body");
    Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), text, content_type }
}

/// Places an outbound call and returns its `callId`.
pub async fn outbound(s: &TestServer, key: &str, agent: &str, phone: &str, scenario: Option<&str>) -> String {
    let r = outbound_reply(s, key, agent, phone, scenario).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"]["conversationId"].as_str().expect("conversationId").to_string()
}

/// `GET /conversation/{id}` data.
pub async fn detail(s: &TestServer, key: &str, call_id: &str) -> Value {
    let r = s.get(&format!("/conversation/{call_id}"), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"].clone()
}

/// The virtual clock's now, epoch ms.
pub async fn now_ms(s: &TestServer) -> i64 {
    s.admin(Method::GET, "/clock", None).await.body["nowMs"].as_i64().expect("nowMs")
}

/// Advances the clock one second at a time (at most `max_secs`) until
/// the call has ended; returns the detail.
pub async fn run_to_end(s: &TestServer, key: &str, call_id: &str, max_secs: u32) -> Value {
    s.advance(0.0).await;
    for _ in 0..max_secs {
        let d = detail(s, key, call_id).await;
        if !d["endedAt"].is_null() {
            return d;
        }
        s.advance(1.0).await;
    }
    panic!("{call_id} did not end within {max_secs} s");
}

/// An open `/events` stream whose `sse_init` has arrived, so the
/// subscription is in place before the test moves the clock.
pub struct Stream {
    /// `sse_init`'s data.
    pub init: String,
    task: tokio::task::JoinHandle<Vec<String>>,
}

impl Stream {
    /// The `data` of every later frame up to the end of the stream.
    pub async fn rest(self) -> Vec<String> {
        tokio::time::timeout(WAIT, self.task).await.expect("stream ended in time").expect("reader task")
    }

    /// `sse_init` plus [`Stream::rest`].
    pub async fn all(self) -> Vec<String> {
        let init = self.init.clone();
        let mut v = self.rest().await;
        v.insert(0, init);
        v
    }
}

/// `GET /events?callId=` with `key` as Bearer (the raw response).
pub async fn open_events(s: &TestServer, key: &str, call_id: &str) -> reqwest::Response {
    s.http
        .get(format!("{}/events?callId={call_id}", s.base()))
        .bearer_auth(key)
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("request")
}

/// Opens `/events?callId=` with `key` and waits for `sse_init`.
pub async fn subscribe(s: &TestServer, key: &str, call_id: &str) -> Stream {
    let res = open_events(s, key, call_id).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut events = res.bytes_stream().eventsource();
    let first = tokio::time::timeout(WAIT, events.next()).await.expect("sse_init in time");
    let init = first.expect("a frame").expect("valid SSE").data;
    let task = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some(Ok(ev)) = events.next().await {
            out.push(ev.data);
        }
        out
    });
    Stream { init, task }
}

/// The `event_type` of each frame.
pub fn types(frames: &[String]) -> Vec<String> {
    frames
        .iter()
        .map(|f| {
            let v: Value = serde_json::from_str(f).expect("JSON frame");
            v["event_type"].as_str().expect("event_type").to_string()
        })
        .collect()
}

/// `types` with runs of one type collapsed to `type*n` (n > 1), so
/// sequences read like the documented order (R133).
pub fn shape(types: &[String]) -> Vec<String> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for t in types {
        match out.last_mut() {
            Some((last, n)) if last == t => *n += 1,
            _ => out.push((t.clone(), 1)),
        }
    }
    out.into_iter().map(|(t, n)| if n == 1 { t } else { format!("{t}*{n}") }).collect()
}

/// Event types of a call log's `events`.
pub fn log_types(detail: &Value) -> Vec<String> {
    detail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event_type"].as_str().expect("event_type").to_string())
        .collect()
}

/// The events of a call log (`detail["events"]`, the relay's raw stream)
/// that `GET /events` carries: all but `llm_full_response_end`, which is
/// not one of the stream's event types (R129).
pub fn streamed(detail: &Value) -> Vec<Value> {
    let events = detail["events"].as_array().expect("events");
    events.iter().filter(|e| e["event_type"] != "llm_full_response_end").cloned().collect()
}

/// `(role, content)` of each transcript line.
pub fn transcript(detail: &Value) -> Vec<(String, String)> {
    detail["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .map(|l| (l["role"].as_str().unwrap_or("").to_string(), l["content"].as_str().unwrap_or("").to_string()))
        .collect()
}
