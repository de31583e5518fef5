//! Deliveries (R144–R157): three signed POSTs per call, in order, with the
//! platform's bodies; failures recorded without blocking healthy
//! receivers; the opt-in retry policy on the virtual clock.

use std::time::Duration;

use atoms_mock::Config;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::schema;
use super::{create_webhook, place_call, receiver, secret, wait, ALL_EVENTS};
use crate::helpers::TestServer;

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// An agent whose active version defines three disposition metrics, one
/// success metric and a default variable.
async fn agent_with_metrics(s: &TestServer, key: &str) -> String {
    let agent = s.create_agent(key, "Webhook agent").await;
    let metric = |id: &str, ty: &str| json!({"identifier": id, "dispositionMetricPrompt": format!("{id}?"), "dispositionMetricType": ty});
    let config = json!({
        "defaultVariables": {"agent_name": "Nisha"},
        "postCallAnalyticsConfig": {
            "dispositionMetrics": [metric("call_resolved", "BOOLEAN"), metric("customer_sentiment", "STRING"), metric("score", "INTEGER")],
            "successMetrics": [{"identifier": "goal_met", "successMetricPrompt": "Goal met?", "successMetricType": "PASS_FAIL"}]
        }
    });
    s.release(key, &agent, config).await;
    agent
}

/// Drives a happy-path call through its three milestones, waiting for
/// the delivery to `webhook` of each before moving the clock on.
async fn drive_call(s: &TestServer, call: &str, webhook: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (secs, event) in [(3.0, "pre-conversation"), (20.0, "post-conversation"), (15.0, "analytics-completed")] {
        s.advance(secs).await;
        let r = wait(s, &format!("callId={call}&webhookId={webhook}&event={event}")).await;
        assert_eq!(r.status, StatusCode::OK, "{event}: {}", r.text);
        out.push(r.body);
    }
    out
}

fn iso_ms(s: &Value) -> i64 {
    let t = time::OffsetDateTime::parse(s.as_str().expect("iso"), &time::format_description::well_known::Rfc3339);
    i64::try_from(t.expect("parses").unix_timestamp_nanos() / 1_000_000).expect("fits")
}

#[tokio::test]
async fn a_call_sends_three_signed_events_in_order_matching_the_scenario_run() {
    // Arrange: a receiver, a webhook with a custom header, an agent with metrics.
    let s = TestServer::start().await;
    let key = "wh-deliver";
    let rx = receiver(200).await;
    let agent = agent_with_metrics(&s, key).await;
    let url = format!("{}/hook", rx.uri());
    let id = create_webhook(&s, key, &url, &agent, &[]).await;
    let r = s
        .post(&format!("/agent/{agent}/webhook-subscriptions"), key, json!({"webhookId": id, "eventTypes": ALL_EVENTS}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        s.patch(&format!("/webhook/{id}"), key, json!({"headers": {"x-api-key": "gateway-key"}})).await.status,
        StatusCode::OK
    );
    let secret = secret(&s, key, &id).await;

    // Act
    let call = place_call(&s, key, &agent, json!({"variables": {"customer_name": "Ada"}})).await;
    let logged = drive_call(&s, &call, &id).await;

    // Assert: exactly three POSTs, in order, one callId, signed, with our headers.
    let received = rx.received_requests().await.expect("recording on");
    assert_eq!(received.len(), 3);
    let bodies: Vec<Value> = received.iter().map(|r| serde_json::from_slice(&r.body).expect("JSON body")).collect();
    for (i, (req, body)) in received.iter().zip(&bodies).enumerate() {
        assert_eq!(body["metadata"]["eventType"], ALL_EVENTS[i]);
        assert_eq!(body["metadata"]["callId"], call.as_str());
        let header = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert_eq!(header("x-signature"), hmac_hex(&secret, &req.body), "signature of the raw bytes");
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(header("x-api-key"), "gateway-key");
        assert_eq!(
            logged[i]["request"]["body"].as_str().map(str::as_bytes),
            Some(&req.body[..]),
            "log holds the exact body"
        );
        assert_eq!(logged[i]["result"], "SUCCEEDED");
        assert_eq!(logged[i]["attempts"][0]["statusCode"], 200);
    }
    let ids: Vec<&str> = bodies.iter().map(|b| b["id"].as_str().unwrap_or("")).collect();
    assert!(ids.iter().all(|i| i.len() == 24 && i.bytes().all(|b| b.is_ascii_hexdigit())), "{ids:?}");
    assert!(ids[0] != ids[1] && ids[1] != ids[2]);

    // Assert: every field against the call record the SSE stream and call log read.
    let t = s.server.state().store.tenant(key);
    let (rec, _) = t.calls().get(&call).expect("call record");
    let (pre, post, done) = (&bodies[0], &bodies[1], &bodies[2]);
    for (b, ev) in bodies.iter().zip(ALL_EVENTS) {
        assert_eq!(b["url"], url.as_str());
        assert_eq!(b["description"], "Test endpoint");
        assert_eq!(b["event"], format!("{agent}.{ev}"));
        assert_eq!(b["metadata"]["agentId"], agent.as_str());
        assert_eq!(b["metadata"]["conversationType"], "telephonyOutbound");
    }
    assert_eq!(pre["metadata"]["toPhone"], "+14155550123");
    assert_eq!(pre["metadata"]["fromPhone"], rec.from.as_deref().expect("from"));
    for absent in ["callData", "transcript", "variables", "analytics", "recordingUrl"] {
        assert!(pre["metadata"].get(absent).is_none(), "pre-conversation has no {absent}");
    }
    let cd = &post["metadata"]["callData"];
    assert_eq!((cd["toNumber"].as_str(), cd["fromNumber"].as_str()), (rec.to.as_deref(), rec.from.as_deref()));
    assert_eq!(cd["callDirection"], "telephony_outbound");
    assert_eq!(cd["callStatus"], "completed");
    let duration = cd["callDuration"].as_f64().expect("float seconds");
    assert!(cd["callDuration"].is_f64());
    assert_eq!((duration * 1000.0).round() as u64, rec.duration_ms());
    assert_eq!(iso_ms(&cd["endTime"]) - iso_ms(&cd["answerTime"]), rec.duration_ms() as i64);
    let transcript: Vec<Value> = rec
        .transcript
        .iter()
        .map(|l| json!({"role": l.role, "content": l.content, "timestamp": atoms_mock::domain::time::iso(l.at)}))
        .collect();
    assert_eq!(post["metadata"]["transcript"], json!(transcript));
    assert!(transcript.len() >= 5 && transcript[2]["content"].as_str().unwrap_or("").contains("Ada"));
    let vars = &post["metadata"]["variables"];
    assert_eq!(vars, &Value::Object(rec.variables.clone()));
    assert_eq!(
        (vars["user_number"].as_str(), vars["agent_number"].as_str()),
        (rec.to.as_deref(), rec.from.as_deref()),
        "R155"
    );
    assert_eq!((vars["customer_name"].as_str(), vars["agent_name"].as_str()), (Some("Ada"), Some("Nisha")));
    assert_eq!(vars.as_object().map(|v| v.len()), Some(13), "11 standard keys + 2 custom");
    assert!(post["metadata"]["recordingUrl"].as_str().unwrap_or("").contains(&format!("{call}.wav")));
    let a = &done["metadata"]["analytics"];
    assert_eq!(a["summary"], "The caller asked about an order; the agent confirmed it ships Friday.");
    assert_eq!(
        a["dispositionMetrics"][0],
        json!({"identifier": "call_resolved", "value": true, "confidence": 0.96, "reasoning": "The caller said that was all they needed.",
               "dispositionMetricPrompt": "call_resolved?", "dispositionMetricType": "BOOLEAN"})
    );
    assert_eq!(
        (&a["dispositionMetrics"][1]["value"], &a["dispositionMetrics"][2]["value"]),
        (&json!("positive"), &json!(0))
    );
    assert_eq!(a["successMetrics"][0]["dispositionMetricType"], "BOOLEAN");
    assert_eq!(a["successMetrics"][0]["dispositionMetricPrompt"], "Goal met?");
    let mut expected_cd = cd.clone();
    expected_cd.as_object_mut().map(|m| m.remove("callDirection"));
    assert_eq!(done["metadata"]["callData"], expected_cd, "analytics-completed omits callDirection");
}

#[tokio::test]
async fn event_bodies_validate_against_the_upstream_callback_schemas() {
    let Some(spec) = schema::load_spec() else { return };
    let s = TestServer::start().await;
    let key = "wh-schema";
    let rx = receiver(200).await;
    let agent = agent_with_metrics(&s, key).await;
    let id = create_webhook(&s, key, &format!("{}/hook", rx.uri()), &agent, &ALL_EVENTS).await;
    let names = ["WebhookEventPreConversation", "WebhookEventPostConversation", "WebhookEventAnalyticsCompleted"];

    let phone_call = place_call(&s, key, &agent, json!({})).await;
    let web = s.post("/conversation/webcall", key, json!({"agentId": agent})).await;
    let web_call = web.body["data"]["callId"].as_str().expect("callId").to_string();
    let phone = drive_call(&s, &phone_call, &id).await;
    let mut webcall = Vec::new();
    for ev in ALL_EVENTS {
        let r = wait(&s, &format!("callId={web_call}&event={ev}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        webcall.push(r.body);
    }
    for logged in phone.iter().chain(&webcall) {
        let body: Value = serde_json::from_str(logged["request"]["body"].as_str().expect("body")).expect("JSON");
        let i = ALL_EVENTS.iter().position(|e| body["metadata"]["eventType"] == *e).expect("known event");
        assert_eq!(schema::validate(&spec, "WebhookEventEnvelope", &body), Vec::<String>::new());
        assert_eq!(schema::validate(&spec, names[i], &body), Vec::<String>::new(), "{}", names[i]);
    }
    assert_eq!(
        serde_json::from_str::<Value>(webcall[0]["request"]["body"].as_str().unwrap_or("")).expect("json")["metadata"]
            ["conversationType"],
        "webcall"
    );
    // The checker itself catches a broken body.
    let mut broken: Value = serde_json::from_str(phone[2]["request"]["body"].as_str().unwrap_or("")).expect("json");
    broken["metadata"]["analytics"]["dispositionMetrics"][0].as_object_mut().map(|m| m.remove("reasoning"));
    broken["metadata"]["callData"]["callStatus"] = json!("no-answer");
    assert_eq!(schema::validate(&spec, names[2], &broken).len(), 2);
}

fn refused_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}/hook")
}

#[tokio::test]
async fn failing_hanging_and_dead_receivers_are_recorded_and_never_block_a_healthy_one() {
    // Arrange: a 4 s delivery timeout (the platform's is 30 s).
    let s = TestServer::with_config(Config { webhook_timeout_ms: 4000, ..Config::for_tests() }).await;
    let key = "wh-isolation";
    let agent = s.create_agent(key, "A").await;
    let failing = MockServer::start().await;
    let big = "x".repeat(5000);
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500).set_body_string(big)).mount(&failing).await;
    let hanging = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&hanging)
        .await;
    let healthy = receiver(200).await;
    let mut ids = Vec::new();
    for url in [
        format!("{}/hook", failing.uri()),
        format!("{}/hook", hanging.uri()),
        refused_url(),
        format!("{}/hook", healthy.uri()),
    ] {
        ids.push(create_webhook(&s, key, &url, &agent, &ALL_EVENTS).await);
    }
    let (fail_id, hang_id, dead_id, ok_id) = (&ids[0], &ids[1], &ids[2], &ids[3]);

    // Act: the healthy receiver gets all three events while the hanging one still waits.
    let call = place_call(&s, key, &agent, json!({})).await;
    let healthy_log = drive_call(&s, &call, ok_id).await;
    let hang_pre =
        s.admin(Method::GET, &format!("/webhooks/deliveries?webhookId={hang_id}&event=pre-conversation"), None).await;

    // Assert
    assert!(healthy_log.iter().all(|d| d["result"] == "SUCCEEDED"));
    assert_eq!(healthy.received_requests().await.map(|r| r.len()), Some(3));
    assert_eq!(hang_pre.body["deliveries"][0]["result"], "PENDING", "the hanging receiver is still in flight");
    let fail = wait(&s, &format!("webhookId={fail_id}&event=pre-conversation")).await.body;
    assert_eq!(
        (fail["result"].as_str(), fail["attempts"].as_array().map(Vec::len)),
        (Some("FAILED"), Some(1)),
        "never retried by default"
    );
    let a = &fail["attempts"][0];
    assert_eq!(a["statusCode"], 500);
    assert_eq!(
        (a["response"]["truncated"].as_bool(), a["response"]["body"].as_str().map(str::len)),
        (Some(true), Some(2048))
    );
    assert!(a["error"].as_str().unwrap_or("").contains("500"));
    let dead = wait(&s, &format!("webhookId={dead_id}&event=pre-conversation")).await.body;
    assert_eq!((dead["result"].as_str(), &dead["attempts"][0]["statusCode"]), (Some("FAILED"), &Value::Null));
    assert!(dead["attempts"][0]["error"].as_str().unwrap_or("").contains("connection"), "{dead}");
    let hang = wait(&s, &format!("webhookId={hang_id}&event=pre-conversation&timeoutMs=20000")).await.body;
    assert_eq!(hang["result"], "FAILED", "{hang}");
    assert!(hang["attempts"][0]["error"].as_str().unwrap_or("").starts_with("timeout"), "{hang}");
    assert!(hang["attempts"][0]["latencyMs"].as_u64().unwrap_or(0) >= 4000);
    let listed = s
        .admin(Method::GET, &format!("/webhooks/deliveries?callId={call}&result=failed&event=pre-conversation"), None)
        .await;
    assert_eq!(listed.body["deliveries"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn opt_in_retries_back_off_on_the_virtual_clock_and_redeliver_resends_the_same_bytes() {
    let s = TestServer::with_config(Config { webhook_retries: 2, ..Config::for_tests() }).await;
    let key = "wh-retry";
    let agent = s.create_agent(key, "A").await;
    let rx = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).up_to_n_times(2).mount(&rx).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&rx).await;
    let id = create_webhook(&s, key, &format!("{}/hook", rx.uri()), &agent, &["pre-conversation"]).await;
    let call = place_call(&s, key, &agent, json!({})).await;
    let q = format!("callId={call}&webhookId={id}");

    s.advance(3.0).await;
    let first = wait(&s, &format!("{q}&minAttempts=1")).await.body;
    assert_eq!((first["result"].as_str(), &first["attempts"][0]["statusCode"]), (Some("PENDING"), &json!(503)));
    assert_eq!(iso_ms(&first["nextAttemptAt"]) - iso_ms(&first["attempts"][0]["startedAt"]), 1000, "retry 1 after 1 s");
    s.advance(0.5).await;
    let early = s.admin(Method::GET, &format!("/webhooks/deliveries/wait?{q}&minAttempts=2&timeoutMs=300"), None).await;
    assert_eq!(early.status, StatusCode::REQUEST_TIMEOUT, "not before the backoff elapses on the clock");
    s.advance(0.5).await;
    let second = wait(&s, &format!("{q}&minAttempts=2")).await.body;
    assert_eq!(iso_ms(&second["nextAttemptAt"]) - iso_ms(&second["attempts"][1]["startedAt"]), 2000, "then 2 s");
    s.advance(2.0).await;
    let done = wait(&s, &q).await.body;
    assert_eq!(done["result"], "SUCCEEDED");
    assert_eq!(
        done["attempts"].as_array().map(|a| a.iter().map(|x| x["statusCode"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(503), json!(503), json!(200)])
    );

    let again = s
        .admin(Method::POST, &format!("/webhooks/deliveries/{}/redeliver", done["id"].as_str().unwrap_or("")), None)
        .await;
    assert_eq!((again.status, again.body["attempts"].as_array().map(Vec::len)), (StatusCode::OK, Some(4)));
    let received: Vec<Request> = rx.received_requests().await.expect("recording on");
    assert_eq!(received.len(), 4);
    assert!(received
        .iter()
        .all(|r| r.body == received[0].body && r.headers.get("x-signature") == received[0].headers.get("x-signature")));
    let missing = s.admin(Method::POST, "/webhooks/deliveries/nope/redeliver", None).await;
    assert_eq!((missing.status, missing.error()), (StatusCode::NOT_FOUND, "Delivery not found"));
}

#[tokio::test]
async fn a_full_queue_fails_the_delivery_at_once_without_sending_it() {
    let cfg = Config { webhook_queue: 1, webhook_timeout_ms: 20_000, ..Config::for_tests() };
    let s = TestServer::with_config(cfg).await;
    let key = "wh-queue";
    let agent = s.create_agent(key, "A").await;
    let hanging = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&hanging)
        .await;
    create_webhook(&s, key, &format!("{}/hook", hanging.uri()), &agent, &["pre-conversation", "post-conversation"])
        .await;
    let call = place_call(&s, key, &agent, json!({})).await;
    s.advance(3.0).await;
    let pending = wait(&s, &format!("callId={call}&event=pre-conversation&result=PENDING")).await;
    assert_eq!(pending.status, StatusCode::OK);
    s.advance(20.0).await;
    let post = wait(&s, &format!("callId={call}&event=post-conversation")).await.body;
    assert_eq!(post["result"], "FAILED");
    assert_eq!(post["attempts"], json!([]));
    assert!(post["error"].as_str().unwrap_or("").starts_with("queue full"), "{post}");
}

#[tokio::test]
async fn unsubscribed_events_and_agents_get_no_delivery_and_bad_filters_are_400() {
    let s = TestServer::start().await;
    let key = "wh-unsubscribed";
    let (agent, other) = (s.create_agent(key, "A").await, s.create_agent(key, "B").await);
    let rx = receiver(200).await;
    create_webhook(&s, key, &format!("{}/hook", rx.uri()), &agent, &["post-conversation"]).await;
    let quiet = place_call(&s, key, &other, json!({})).await;
    let call = place_call(&s, key, &agent, json!({})).await;
    s.advance(40.0).await;
    let r = wait(&s, &format!("callId={call}")).await;
    assert_eq!(r.body["event"], "post-conversation");
    let all = s.admin(Method::GET, "/webhooks/deliveries", None).await;
    let calls: Vec<&str> =
        all.body["deliveries"].as_array().expect("list").iter().filter_map(|d| d["callId"].as_str()).collect();
    assert!(!calls.contains(&quiet.as_str()));
    assert_eq!(calls.iter().filter(|c| **c == call).count(), 1);
    let bad = s.admin(Method::GET, "/webhooks/deliveries?result=maybe", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["status"], false);
}

#[tokio::test]
async fn patched_headers_replace_clear_or_stay_on_later_deliveries() {
    let s = TestServer::start().await;
    let key = "wh-headers";
    let agent = s.create_agent(key, "A").await;
    let rx = receiver(200).await;
    let id = create_webhook(&s, key, &format!("{}/hook", rx.uri()), &agent, &["pre-conversation"]).await;
    let path = format!("/webhook/{id}");
    let steps = [
        (json!({"headers": {"X-One": "1", "x-two": "2"}}), vec![("x-one", "1"), ("x-two", "2")]),
        (json!({"headers": {"x-three": "3"}}), vec![("x-three", "3")]),
        (json!({"description": "omitting headers keeps them"}), vec![("x-three", "3")]),
        (json!({"headers": {}}), vec![]),
    ];
    for (i, (patch, expected)) in steps.into_iter().enumerate() {
        assert_eq!(s.patch(&path, key, patch.clone()).await.status, StatusCode::OK, "{patch}");
        let call = place_call(&s, key, &agent, json!({})).await;
        s.advance(3.0).await;
        let logged = wait(&s, &format!("callId={call}")).await.body;
        let received = rx.received_requests().await.expect("recording on");
        let req = &received[i];
        for name in ["x-one", "x-two", "x-three"] {
            let want = expected.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
            assert_eq!(req.headers.get(name).and_then(|v| v.to_str().ok()), want, "step {i}: {name}");
        }
        let sent: Vec<&str> =
            logged["request"]["headers"].as_object().expect("headers").keys().map(String::as_str).collect();
        assert_eq!(sent.len(), 2 + expected.len(), "step {i}: {sent:?}");
        assert_eq!(&sent[..2], ["Content-Type", "X-Signature"]);
    }
}
