//! `GET /events?callId=` read with a real SSE client (reqwest +
//! eventsource-stream): ordering and fan-out to concurrent and late
//! subscribers (R123–R133), the error statuses (R124, R125), keep-alives
//! and graceful shutdown.

use std::collections::HashSet;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;

use crate::call_helpers::*;
use crate::helpers::TestServer;

const KEY: &str = "sk_sse";
const PHONE: &str = "+14155550123";

fn parse(frames: &[String]) -> Vec<Value> {
    frames.iter().map(|f| serde_json::from_str(f).expect("JSON frame")).collect()
}

#[tokio::test]
async fn three_concurrent_and_one_late_subscriber_each_get_every_event_once_in_order() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "fanout").await;
    let call_id = outbound(&s, KEY, &agent, PHONE, None).await;
    let early =
        [subscribe(&s, KEY, &call_id).await, subscribe(&s, KEY, &call_id).await, subscribe(&s, KEY, &call_id).await];
    s.advance(8.0).await;
    let late = subscribe(&s, KEY, &call_id).await;
    let d = run_to_end(&s, KEY, &call_id, 60).await;
    let logged = d["events"].as_array().expect("events").clone();
    assert!(logged.len() > 20, "the default scenario has a whole conversation");
    let mut streams: Vec<Vec<Value>> = Vec::new();
    for st in early.into_iter().chain([late]) {
        let init: Value = serde_json::from_str(&st.init).expect("init");
        assert_eq!(init["event_type"], "sse_init", "R126: sse_init first");
        assert!(init["event_time"].is_string());
        streams.push(parse(&st.rest().await));
    }
    // The stream carries the spec's event types (R129); the call log also
    // records the LLM's `llm_full_response_end`.
    let streamed = streamed(&d);
    assert!(streamed.len() < logged.len(), "the log has llm_full_response_end");
    for events in &streams {
        let (close, body) = events.split_last().expect("frames");
        assert_eq!(close["event_type"], "sse_close", "R127: sse_close last");
        assert_eq!(body, &streamed[..], "every streamed event once, in order, same as the call log");
    }
    let ids: HashSet<&str> = logged.iter().filter_map(|e| e["event_id"].as_str()).collect();
    assert_eq!(ids.len(), logged.len(), "event ids are unique");
    for (i, e) in logged.iter().enumerate() {
        assert_eq!(e["call_id"], call_id.as_str(), "R128");
        assert!(e["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "ISO timestamp (L-F3): {e}");
        let id = e["event_id"].as_str().expect("event_id");
        assert!(id.starts_with(&format!("{call_id}_{}_", i + 1)), "{id}");
    }
    assert_eq!(logged[0]["event_type"], "call_start");
    assert!(logged[0]["telephony_id"].is_string(), "R131");
    let metrics = logged.iter().find(|e| e["event_type"] == "metrics").expect("metrics");
    assert!(metrics["metrics"].as_array().is_some_and(|m| m[0]["processor"] == "pulse_stt"), "R132: array form");
}

#[tokio::test]
async fn frames_are_bare_data_lines_without_event_or_id_fields() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "frames").await;
    let call_id = outbound(&s, KEY, &agent, "+15005550003", None).await;
    run_to_end(&s, KEY, &call_id, 30).await;
    let res = open_events(&s, KEY, &call_id).await;
    let text = tokio::time::timeout(WAIT, res.text()).await.expect("ends").expect("body");
    let frames: Vec<&str> = text.split("\n\n").filter(|f| !f.is_empty()).collect();
    assert_eq!(frames.len(), 3, "{text}");
    assert!(frames.iter().all(|f| f.starts_with("data: {") && !f.contains('\n')), "R123: {text}");
}

/// R124, L-F4: by default a call that has ended is 400 at once (the
/// spec); with `--sse-replay-secs 60` (the tests' configuration) a
/// subscriber within 60 s of the end gets the replay, a later one 400.
#[tokio::test]
async fn an_ended_call_is_400_at_once_and_within_sse_replay_secs_it_replays() {
    let spec =
        TestServer::with_config(atoms_mock::Config { sse_replay_secs: 0, ..atoms_mock::Config::for_tests() }).await;
    let agent_id = agent(&spec, KEY, "ended").await;
    let call_id = outbound(&spec, KEY, &agent_id, "+15005550002", None).await;
    run_to_end(&spec, KEY, &call_id, 30).await;
    let r = spec.get(&format!("/events?callId={call_id}"), KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Call is already completed"), "R124, L-F4");

    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "late").await;
    let call_id = outbound(&s, KEY, &agent, "+15005550002", None).await;
    run_to_end(&s, KEY, &call_id, 30).await;
    let replay = subscribe(&s, KEY, &call_id).await.all().await;
    assert_eq!(types(&replay), ["sse_init", "call_end", "sse_close"]);
    s.advance(61.0).await;
    let r = s.get(&format!("/events?callId={call_id}"), KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Call is already completed"), "past the window");
}

#[tokio::test]
async fn bad_requests_get_the_documented_statuses() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "errors").await;
    let call_id = outbound(&s, KEY, &agent, PHONE, None).await;
    let cases = [
        ("/events".to_string(), Some(KEY), StatusCode::BAD_REQUEST, "callId: Required"),
        ("/events?callId=".to_string(), Some(KEY), StatusCode::BAD_REQUEST, "callId: Required"),
        ("/events?callId=abc".to_string(), Some(KEY), StatusCode::BAD_REQUEST, "Invalid callId"),
        ("/events?callId=CALL-1767225600000-zzzzzz".to_string(), Some(KEY), StatusCode::BAD_REQUEST, "Invalid callId"),
        (
            "/events?callId=CALL-1767225600000-abcdef".to_string(),
            Some(KEY),
            StatusCode::NOT_FOUND,
            "Call log not found",
        ),
        (format!("/events?callId={call_id}"), Some("sk_someone_else"), StatusCode::NOT_FOUND, "Call log not found"),
        (format!("/events?callId={call_id}"), None, StatusCode::UNAUTHORIZED, "Unauthorized: User not found"),
    ];
    for (path, key, status, message) in cases {
        let r = s.call(reqwest::Method::GET, &path, key, None).await;
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.body["status"], false, "{path}: {}", r.text);
        assert_eq!(r.error(), message, "{path}");
    }
}

#[tokio::test]
async fn idle_streams_get_keep_alive_comments_on_the_mock_clock() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "idle").await;
    let call_id = outbound(&s, KEY, &agent, "+15005550001", None).await;
    let res = open_events(&s, KEY, &call_id).await;
    let mut body = res.bytes_stream();
    let first = tokio::time::timeout(WAIT, body.next()).await.expect("init").expect("chunk").expect("bytes");
    assert!(first.starts_with(b"data: {\"event_type\":\"sse_init\""));
    s.advance(16.0).await;
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(": keep-alive") {
        let chunk = tokio::time::timeout(WAIT, body.next()).await.expect("keep-alive in time");
        seen.extend_from_slice(&chunk.expect("open").expect("bytes"));
    }
    assert!(!String::from_utf8_lossy(&seen).contains("call_end"), "ring is 30 s; nothing happened yet");
}

#[tokio::test]
async fn graceful_shutdown_ends_open_streams_with_sse_close() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "bye").await;
    let call_id = outbound(&s, KEY, &agent, PHONE, None).await;
    let res = open_events(&s, KEY, &call_id).await;
    let mut events = res.bytes_stream().eventsource();
    let init = tokio::time::timeout(WAIT, events.next()).await.expect("init").expect("frame").expect("sse");
    assert!(init.data.contains("sse_init"));
    let TestServer { server, .. } = s;
    let stopped = tokio::time::timeout(WAIT, server.shutdown()).await;
    assert!(stopped.is_ok(), "shutdown waited on an open stream");
    let rest = tokio::time::timeout(WAIT, async {
        let mut frames = Vec::new();
        while let Some(Ok(e)) = events.next().await {
            frames.push(e.data);
        }
        frames
    })
    .await;
    let rest = rest.expect("the stream ended");
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert!(rest[0].contains("\"event_type\":\"sse_close\""), "R127: sse_close before the stream closes: {rest:?}");
}
