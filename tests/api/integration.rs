//! Cross-feature behaviour (webhooks, campaigns, realtime): campaign calls, realtime
//! sessions, draft test calls and web calls each get the same SSE history,
//! call log and webhook deliveries as a single outbound call. Everything
//! runs on the virtual clock; waits are the delivery log's long-poll or a
//! `tokio::time::timeout`, never a sleep.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::MockServer;

use crate::call_helpers::{self, detail, streamed, subscribe, transcript};
use crate::campaigns::{audience, campaign, new_campaign, product};
use crate::helpers::TestServer;
use crate::realtime::{self, is, raw_query, ws_url, Session, KEY as RT_KEY, SCENARIO};
use crate::webhooks::{create_webhook, receiver, wait, ALL_EVENTS};

const TERMINAL: [&str; 4] = ["completed", "failed", "no_answer", "cancelled"];

/// A webhook receiver subscribed to all three events of `agent`.
struct Hook {
    rx: MockServer,
    id: String,
}

impl Hook {
    async fn new(s: &TestServer, key: &str, agent: &str) -> Self {
        let rx = receiver(200).await;
        let id = create_webhook(s, key, &format!("{}/hook", rx.uri()), agent, &ALL_EVENTS).await;
        Self { rx, id }
    }

    /// Waits until each of `events` was delivered to this webhook for
    /// `call_id` and answered, then checks that the delivery log and the
    /// receiver hold exactly those events for the call, in that order
    /// (R148). Returns the bodies the receiver got.
    async fn delivered(&self, s: &TestServer, call_id: &str, events: &[&str]) -> Vec<Value> {
        for ev in events {
            let r = wait(s, &format!("callId={call_id}&webhookId={}&event={ev}", self.id)).await;
            assert_eq!(r.status, StatusCode::OK, "{call_id} {ev}: {}", r.text);
            assert_eq!(r.body["result"], "SUCCEEDED", "{call_id} {ev}");
        }
        let logged = s
            .admin(reqwest::Method::GET, &format!("/webhooks/deliveries?callId={call_id}&webhookId={}", self.id), None)
            .await;
        let logged: Vec<&str> = logged.body["deliveries"]
            .as_array()
            .expect("deliveries")
            .iter()
            .filter_map(|d| d["event"].as_str())
            .collect();
        assert_eq!(logged, events, "{call_id}: the delivery log");
        let bodies: Vec<Value> = self
            .rx
            .received_requests()
            .await
            .expect("recording on")
            .iter()
            .map(|r| serde_json::from_slice::<Value>(&r.body).expect("JSON body"))
            .filter(|b| b["metadata"]["callId"] == call_id)
            .collect();
        let got: Vec<&str> = bodies.iter().filter_map(|b| b["metadata"]["eventType"].as_str()).collect();
        assert_eq!(got, events, "{call_id}: what the receiver got, in order");
        bodies
    }

    /// Every `metadata.callId` the receiver has seen.
    async fn call_ids(&self) -> BTreeSet<String> {
        let received = self.rx.received_requests().await.expect("recording on");
        received
            .iter()
            .map(|r| serde_json::from_slice::<Value>(&r.body).expect("JSON body"))
            .filter_map(|b| b["metadata"]["callId"].as_str().map(str::to_string))
            .collect()
    }
}

/// The webhook events a call of `status` gets: pre-conversation and
/// analytics-completed only when it connected, post-conversation always.
fn events_for(status: &str) -> Vec<&'static str> {
    if status == "completed" {
        ALL_EVENTS.to_vec()
    } else {
        vec!["post-conversation"]
    }
}

/// Reads the SSE replay of an ended call (`GET /events?callId=` inside
/// the tests' 60 s `--sse-replay-secs` window, R124) to `sse_close` and checks that between
/// `sse_init` and `sse_close` it equals the call log's `events` that the
/// stream carries (`streamed`, R129), ending
/// with `call_end` (then `call_recording` when there is one, R133).
/// Returns the call log.
async fn replay_equals_log(s: &TestServer, key: &str, call_id: &str) -> Value {
    let log = detail(s, key, call_id).await;
    let frames: Vec<Value> = subscribe(s, key, call_id)
        .await
        .all()
        .await
        .iter()
        .map(|f| serde_json::from_str(f).expect("JSON frame"))
        .collect();
    let kinds: Vec<&str> = frames.iter().filter_map(|f| f["event_type"].as_str()).collect();
    assert_eq!((kinds.first(), kinds.last()), (Some(&"sse_init"), Some(&"sse_close")), "{call_id}: {kinds:?}");
    let tail: Vec<&str> = kinds.iter().rev().skip(1).copied().filter(|k| *k != "call_recording").take(1).collect();
    assert_eq!(tail, ["call_end"], "{call_id}: {kinds:?}");
    assert_eq!(
        frames[1..frames.len() - 1],
        streamed(&log)[..],
        "{call_id}: the SSE replay equals the call log's events"
    );
    log
}

/// The campaign's rows of `GET /conversation` for `callAttemptFilter`.
async fn campaign_rows(s: &TestServer, key: &str, campaign: &str, attempts: &str) -> Vec<Value> {
    let r = s.get(&format!("/conversation?campaignIds={campaign}&callAttemptFilter={attempts}&limit=50"), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"]["logs"].as_array().expect("logs").clone()
}

fn ids(rows: &[Value]) -> BTreeSet<String> {
    rows.iter().map(|r| r["callId"].as_str().expect("callId").to_string()).collect()
}

/// Creates an audience from `csv` and a campaign over it (retries after
/// one minute), and starts it; returns the campaign id.
async fn start_campaign(s: &TestServer, key: &str, agent: &str, csv: &str, max_retries: u32) -> String {
    let aud = audience(s, key, csv).await;
    let body = json!({"name": "Cross-feature", "agentId": agent, "audienceId": aud, "maxRetries": max_retries,
                      "retryDelay": 1, "phoneNumberIds": [product(s, key).await]});
    let id = new_campaign(s, key, body).await;
    let r = s.post(&format!("/campaign/{id}/start"), key, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    id
}

#[tokio::test]
async fn every_campaign_call_gets_its_webhooks_in_order_and_an_sse_replay_equal_to_its_call_log() {
    // Arrange: an agent subscribed to all three events; three members who
    // complete, miss then complete on the retry, and fail (twice).
    let (s, key) = (TestServer::start().await, "sk_integration_campaign");
    let agent = call_helpers::agent(&s, key, "Campaigner").await;
    let hook = Hook::new(&s, key, &agent).await;
    let csv = "phone,name,scenario\n+15553000001,Ann,happy-path\n+15553000002,Bob,no-answer|happy-path\n\
               +15553000003,Cid,failed\n";
    let id = start_campaign(&s, key, &agent, csv, 1).await;

    // Act: run it 5 s at a time, reading each call's SSE replay as soon as
    // it has ended, well inside the 60 s grace.
    let mut logs = std::collections::BTreeMap::new();
    for _ in 0..100 {
        s.advance(5.0).await;
        for row in campaign_rows(&s, key, &id, "all").await {
            let call_id = row["callId"].as_str().expect("callId").to_string();
            if TERMINAL.contains(&row["status"].as_str().unwrap_or("")) && !logs.contains_key(&call_id) {
                let log = replay_equals_log(&s, key, &call_id).await;
                logs.insert(call_id, log);
            }
        }
        if campaign(&s, key, &id).await["campaign"]["status"] == "completed" {
            break;
        }
    }
    s.advance(20.0).await; // the last call's analytics (15 s, R122)

    // Assert: the campaign and its call logs (R113, R121, R167).
    let d = campaign(&s, key, &id).await;
    assert_eq!(d["campaign"]["status"], "completed", "{d}");
    assert_eq!(d["metrics"], json!({"total_participants": 3, "contacts_called": 3, "contacts_connected": 2}));
    let (roots, all) = (campaign_rows(&s, key, &id, "initial").await, campaign_rows(&s, key, &id, "all").await);
    let default = s.get(&format!("/conversation?campaignIds={id}&limit=50"), key).await;
    assert_eq!(ids(default.body["data"]["logs"].as_array().expect("logs")), ids(&roots), "root calls by default");
    let by_phone = |rows: &[Value]| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r["to"].as_str().unwrap_or("").into(), r["status"].as_str().unwrap_or("").into()))
            .collect();
        v.sort();
        v
    };
    let pairs =
        |v: &[(&str, &str)]| -> Vec<(String, String)> { v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect() };
    assert_eq!(
        by_phone(&roots),
        pairs(&[("+15553000001", "completed"), ("+15553000002", "no_answer"), ("+15553000003", "failed")])
    );
    assert_eq!(
        by_phone(&all),
        pairs(&[
            ("+15553000001", "completed"),
            ("+15553000002", "completed"),
            ("+15553000002", "no_answer"),
            ("+15553000003", "failed"),
            ("+15553000003", "failed"),
        ]),
        "callAttemptFilter=all adds the retries"
    );
    assert!(all.iter().all(|r| r["campaignId"] == id.as_str()));
    assert_eq!(logs.keys().cloned().collect::<BTreeSet<_>>(), ids(&all), "every call's replay was read");

    // Assert: each call's deliveries, in order, agreeing with its call log.
    for (call_id, log) in &logs {
        let status = log["status"].as_str().expect("status");
        let bodies = hook.delivered(&s, call_id, &events_for(status)).await;
        let post = bodies.iter().find(|b| b["metadata"]["eventType"] == "post-conversation").expect("post");
        let cd = &post["metadata"]["callData"];
        assert_eq!((cd["callStatus"].as_str(), cd["toNumber"].as_str()), (Some(status), log["to"].as_str()));
        let lines: Vec<(String, String)> = post["metadata"]["transcript"]
            .as_array()
            .expect("transcript")
            .iter()
            .map(|l| (l["role"].as_str().unwrap_or("").into(), l["content"].as_str().unwrap_or("").into()))
            .collect();
        assert_eq!(lines, transcript(log), "{call_id}: the webhook transcript is the call log's");
        assert_eq!(post["metadata"]["conversationType"], "telephonyOutbound");
    }
    assert_eq!(hook.call_ids().await, ids(&all), "metadata.callId covers exactly the campaign's calls");
}

/// The first transcript line of the call of list row `row`.
async fn greeting(s: &TestServer, key: &str, row: &Value) -> Option<(String, String)> {
    transcript(&detail(s, key, row["callId"].as_str().expect("callId")).await).first().cloned()
}

#[tokio::test]
async fn a_config_activated_mid_campaign_applies_to_calls_dialled_afterwards() {
    // Arrange: Ann answers at once; Bob misses and is retried a minute later.
    let (s, key) = (TestServer::start().await, "sk_integration_r173");
    let agent = call_helpers::agent(&s, key, "Changing").await;
    let v1 = s.active_version(key, &agent).await;
    let csv = "phone,name,scenario\n+15554000001,Ann,happy-path\n+15554000002,Bob,no-answer|happy-path\n";
    let id = start_campaign(&s, key, &agent, csv, 1).await;
    s.advance(40.0).await;
    let first = campaign_rows(&s, key, &id, "all").await;
    assert_eq!(first.len(), 2, "both first attempts are over and the retry is not dialled yet");
    assert!(first.iter().all(|r| TERMINAL.contains(&r["status"].as_str().unwrap_or(""))));

    // Act: publish and activate a new greeting while the campaign runs (R173).
    let v2 =
        s.release(key, &agent, json!({"firstMessage": "Hello {{name}}, version two of {{company_name}} here."})).await;
    s.advance(120.0).await;

    // Assert: calls dialled before keep v1; Bob's retry runs v2.
    assert_eq!(campaign(&s, key, &id).await["campaign"]["status"], "completed");
    let rows = campaign_rows(&s, key, &id, "all").await;
    let row = |to: &str, attempt: u64| -> Value {
        rows.iter()
            .find(|r| r["to"] == to && r["retryAttemptNumber"] == attempt)
            .unwrap_or_else(|| panic!("{to} attempt {attempt}: {rows:?}"))
            .clone()
    };
    let (ann, bob, retry) = (row("+15554000001", 0), row("+15554000002", 0), row("+15554000002", 1));
    for (r, version) in [(&ann, &v1), (&bob, &v1), (&retry, &v2)] {
        assert_eq!(r["versionId"], version.as_str(), "{}", r["callId"]);
    }
    assert_eq!(retry["versionNumber"].as_u64(), ann["versionNumber"].as_u64().map(|n| n + 1));
    assert_eq!(greeting(&s, key, &ann).await, Some(("agent".into(), "Hi Ada, this is Acme.".into())));
    assert_eq!(greeting(&s, key, &retry).await, Some(("agent".into(), "Hello Bob, version two of Acme here.".into())));
}

/// After a realtime session ended: once post-conversation has been
/// delivered, the call log has `status` and `reason`, its SSE replay
/// equals it and ends with `call_end`; after the scenario's analytics
/// delay the receiver holds all three events in order (R214).
async fn after_session(s: &TestServer, hook: &Hook, call_id: &str, (status, reason): (&str, &str), delay: f64) {
    let r = wait(s, &format!("callId={call_id}&webhookId={}&event=post-conversation", hook.id)).await;
    assert_eq!(r.status, StatusCode::OK, "{call_id}: {}", r.text);
    let log = replay_equals_log(s, RT_KEY, call_id).await;
    assert_eq!(
        (log["status"].as_str(), log["disconnectionReason"].as_str(), log["type"].as_str()),
        (Some(status), Some(reason), Some("webcall")),
        "{call_id}"
    );
    s.advance(delay - 0.5).await;
    let early = wait(s, &format!("callId={call_id}&event=analytics-completed&minAttempts=0&timeoutMs=200")).await;
    assert_eq!(early.status, StatusCode::REQUEST_TIMEOUT, "{call_id}: no analytics before the delay (R122)");
    s.advance(0.5).await;
    let bodies = hook.delivered(s, call_id, &ALL_EVENTS).await;
    assert!(bodies.iter().all(|b| b["metadata"]["conversationType"] == "webcall"));
    assert_eq!(bodies[1]["metadata"]["callData"]["callStatus"], status);
    assert!(bodies[2]["metadata"]["analytics"]["summary"].is_string());
}

#[tokio::test]
async fn every_realtime_close_path_leaves_a_call_log_an_sse_replay_and_three_webhooks() {
    let (s, agent) = realtime::server().await;
    let hook = Hook::new(&s, RT_KEY, &agent).await;

    // session.close → session.closed {client_requested}, close 1000 (R203).
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[SCENARIO]).await;
    ws.until(&s, is("output_audio.delta")).await;
    ws.send(json!({"type": "session.close"})).await;
    assert_eq!(ws.until(&s, is("session.closed")).await["reason"], "client_requested");
    assert_eq!(ws.closed(&s).await, 1000);
    after_session(&s, &hook, &ws.call_id(), ("completed", "user_hangup"), 5.0).await;

    // A dropped socket ends the session as websocket_closed (R204).
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[SCENARIO]).await;
    ws.until(&s, is("output_audio.delta")).await;
    let call_id = ws.call_id();
    drop(ws);
    after_session(&s, &hook, &call_id, ("completed", "user_hangup"), 5.0).await;

    // The scenario's end → session.closed {ended} (R205).
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "&mode=chat")), &[SCENARIO]).await;
    ws.send(json!({"type": "input_text.send", "text": "Opening hours?"})).await;
    assert_eq!(ws.until(&s, is("session.closed")).await["reason"], "ended");
    assert_eq!(ws.closed(&s).await, 1000);
    after_session(&s, &hook, &ws.call_id(), ("completed", "agent_hangup"), 5.0).await;

    // A fatal pipeline failure after the upgrade → error, close 4000 (R212);
    // the session had connected, so it gets all three events too.
    let mut ws = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[("x-atoms-mock-scenario", "failed")]).await;
    assert_eq!(ws.until(&s, |_| true).await["type"], "session.created");
    assert_eq!(ws.until(&s, |_| true).await["type"], "error");
    assert_eq!(ws.closed(&s).await, 4000);
    after_session(&s, &hook, &ws.call_id(), ("failed", "connection_error"), 15.0).await;
}

#[tokio::test]
async fn draft_test_calls_and_web_calls_of_a_subscribed_agent_get_their_three_webhooks() {
    // Arrange
    let (s, key) = (TestServer::start().await, "sk_integration_test_calls");
    let agent = call_helpers::agent(&s, key, "Tested").await;
    let hook = Hook::new(&s, key, &agent).await;
    let draft = s.fork_draft(key, &agent).await;
    let test_call = |body: Value| {
        let (s, path) = (&s, format!("/agent/{agent}/drafts/{draft}/test-call"));
        async move {
            let r = s.post(&path, key, body).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.body["data"]["callId"].as_str().expect("callId").to_string()
        }
    };

    // Act: a draft test call in each mode and a web call (R063, R144).
    let web_test = test_call(json!({})).await;
    let phone_test = test_call(json!({"mode": "telephony", "toPhone": "+14155550123"})).await;
    let r = s.post("/conversation/webcall", key, json!({"agentId": agent})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let web = r.body["data"]["callId"].as_str().expect("callId").to_string();
    let calls = [(&web_test, "webcall", true), (&phone_test, "telephonyOutbound", true), (&web, "webcall", false)];
    for (call_id, _, _) in calls {
        call_helpers::run_to_end(&s, key, call_id, 60).await;
    }
    let mut logs = Vec::new();
    for (call_id, _, _) in calls {
        logs.push(replay_equals_log(&s, key, call_id).await);
    }
    s.advance(15.0).await;

    // Assert
    for ((call_id, conversation_type, is_test), log) in calls.into_iter().zip(&logs) {
        assert_eq!((log["status"].as_str(), log["isTest"].as_bool()), (Some("completed"), Some(is_test)), "{call_id}");
        let bodies = hook.delivered(&s, call_id, &ALL_EVENTS).await;
        assert!(bodies.iter().all(|b| b["metadata"]["conversationType"] == conversation_type), "{call_id}");
        assert_eq!(bodies[1]["metadata"]["variables"]["call_id"], call_id.as_str());
    }
}
