//! Webhooks (BEHAVIOR §G): the management rules here; deliveries, the
//! upstream schema check and failure isolation in `webhooks/delivery.rs`.
//! Receivers are `wiremock` servers on 127.0.0.1; tests await deliveries
//! with the delivery log's long-poll, never by sleeping.

mod delivery;
mod schema;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Reply, TestServer};

const DUPLICATE: &str = "A webhook with this URL has already been registered";
const NOT_FOUND: &str = "Webhook not found";
const INVALID_ID: &str = "The provided Webhook ID is invalid.";
const ASSIGNED: &str =
    "Cannot delete webhook: It is currently assigned to one or more agents. Please remove all agent assignments first.";
pub(crate) const ALL_EVENTS: [&str; 3] = ["pre-conversation", "post-conversation", "analytics-completed"];

/// A receiver on 127.0.0.1 answering `status` to every POST to `/hook`.
pub(crate) async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/hook")).respond_with(ResponseTemplate::new(status)).mount(&server).await;
    server
}

/// Creates a webhook for `url` subscribing `agent` to `events`; returns its id.
pub(crate) async fn create_webhook(s: &TestServer, key: &str, url: &str, agent: &str, events: &[&str]) -> String {
    let events: Vec<Value> = events.iter().map(|e| json!({"agentId": agent, "eventType": e})).collect();
    let r = s.post("/webhook", key, json!({"endpoint": url, "description": "Test endpoint", "events": events})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["data"].as_str().expect("id").to_string()
}

/// The webhook's signing secret, read as a user would (R136).
pub(crate) async fn secret(s: &TestServer, key: &str, id: &str) -> String {
    let r = s.get(&format!("/webhook?webhookId={id}"), key).await;
    r.body["data"]["decryptedSecretKey"].as_str().expect("decryptedSecretKey").to_string()
}

/// Long-polls the delivery log (`query` is a query string without `?`).
pub(crate) async fn wait(s: &TestServer, query: &str) -> Reply {
    let timeout = if query.contains("timeoutMs=") { "" } else { "&timeoutMs=10000" };
    s.admin(Method::GET, &format!("/webhooks/deliveries/wait?{query}{timeout}"), None).await
}

/// Places an outbound call; returns its `CALL-…` id.
pub(crate) async fn place_call(s: &TestServer, key: &str, agent: &str, extra: Value) -> String {
    let mut body = json!({"agentId": agent, "phoneNumber": "+14155550123"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = s.post("/conversation/outbound", key, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"]["conversationId"].as_str().expect("conversationId").to_string()
}

#[tokio::test]
async fn create_returns_only_the_id_and_get_returns_a_list_or_one_object_with_the_secret() {
    let s = TestServer::start().await;
    let key = "wh-create";
    let agent = s.create_agent(key, "Support").await;
    // Description is optional (L-G4); the response is only the id.
    let r = s
        .post(
            "/webhook",
            key,
            json!({"endpoint": "http://127.0.0.1:9/a", "events": [{"agentId": agent, "eventType": "pre-conversation"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body.as_object().map(|o| o.len()), Some(2), "{}", r.text);
    let a = r.body["data"].as_str().expect("id string").to_string();
    assert_eq!(a.len(), 24);
    let b = create_webhook(&s, key, "http://127.0.0.1:9/b", &agent, &[]).await;

    let list = s.get("/webhook", key).await;
    let items = list.body["data"].as_array().expect("list is an array");
    assert_eq!(items.len(), 2);
    let one = s.get(&format!("/webhook?webhookId={a}"), key).await.body["data"].clone();
    assert_eq!(one, items[0], "single read equals the list item");
    assert_eq!(s.get(&format!("/webhook?id={a}"), key).await.body["data"], one, "?id= alias (L-G5)");
    assert_eq!(one["description"], "");
    assert_eq!(one["status"], "enabled");
    assert_eq!(one["url"], "http://127.0.0.1:9/a");
    let sub = &one["subscriptions"][0];
    assert_eq!(sub["agentId"], json!({"_id": agent, "name": "Support", "description": ""}));
    assert_eq!((sub["webhookId"].as_str(), sub["eventType"].as_str()), (Some(a.as_str()), Some("pre-conversation")));
    let (sa, sb) = (secret(&s, key, &a).await, secret(&s, key, &b).await);
    assert_eq!(sa.len(), 64);
    assert_ne!(sa, sb, "each webhook has its own secret");
    assert_eq!(items[1]["decryptedSecretKey"], sb.as_str());
}

#[tokio::test]
async fn create_validates_urls_events_agents_and_rejects_duplicate_urls_platform_wide() {
    let s = TestServer::start().await;
    let key = "wh-create-bad";
    let agent = s.create_agent(key, "A").await;
    create_webhook(&s, key, "http://127.0.0.1:9/dup", &agent, &[]).await;
    let dup = s.post("/webhook", key, json!({"endpoint": "http://127.0.0.1:9/dup", "events": []})).await;
    assert_eq!((dup.status, dup.error()), (StatusCode::BAD_REQUEST, DUPLICATE));
    let other_org =
        s.post("/webhook", "wh-other-org", json!({"endpoint": "http://127.0.0.1:9/dup", "events": []})).await;
    assert_eq!(other_org.status, StatusCode::BAD_REQUEST, "URLs are unique platform-wide (R135)");

    let cases = [
        (json!({"events": []}), "endpoint: Required"),
        (json!({"endpoint": "not a url", "events": []}), "endpoint: Invalid url"),
        (json!({"endpoint": "http://127.0.0.1:9/x"}), "events: Required"),
        (
            json!({"endpoint": "http://127.0.0.1:9/x", "events": [{"agentId": agent, "eventType": "call.end"}]}),
            "events.0.eventType: Invalid enum value",
        ),
        (
            json!({"endpoint": "http://127.0.0.1:9/x", "events": [{"agentId": "nope", "eventType": "pre-conversation"}]}),
            "Invalid agent id",
        ),
    ];
    for (body, msg) in cases {
        let r = s.post("/webhook", key, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(r.error().starts_with(msg), "{body}: {}", r.error());
    }
    let r = s
        .post(
            "/webhook",
            key,
            json!({"endpoint": "http://127.0.0.1:9/x", "events": [{"agentId": "aaaaaaaaaaaaaaaaaaaaaaaa", "eventType": "pre-conversation"}]}),
        )
        .await;
    // The spec documents no 404 for POST /webhook: an unknown agent is a bad body.
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Agent not found"));
    let r = s.raw(Method::POST, &format!("{}/webhook", s.base()), Some(key), Some(b"{nope".to_vec())).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["status"], false, "bad JSON gets the envelope: {}", r.text);
}

#[tokio::test]
async fn reads_are_validated_and_scoped_to_the_organization() {
    let s = TestServer::start().await;
    let agent = s.create_agent("wh-scope-a", "A").await;
    let id = create_webhook(&s, "wh-scope-a", "http://127.0.0.1:9/s", &agent, &[]).await;
    let r = s.get("/webhook?webhookId=xyz", "wh-scope-a").await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, INVALID_ID));
    let r = s.get("/webhook?webhookId=aaaaaaaaaaaaaaaaaaaaaaaa", "wh-scope-a").await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, NOT_FOUND));
    let r = s.get(&format!("/webhook?webhookId={id}"), "wh-scope-b").await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, NOT_FOUND));
    assert_eq!(s.get("/webhook", "wh-scope-b").await.body["data"], json!([]));
    let r = s.patch(&format!("/webhook/{id}"), "wh-scope-b", json!({"description": "x"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s.get(&format!("/agent/{agent}/webhook-subscriptions"), "wh-scope-b").await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Agent not found"));
}

#[tokio::test]
async fn patch_updates_fields_and_enforces_header_limits_and_reserved_names() {
    let s = TestServer::start().await;
    let key = "wh-patch";
    let agent = s.create_agent(key, "A").await;
    let id = create_webhook(&s, key, "http://127.0.0.1:9/p", &agent, &[]).await;
    create_webhook(&s, key, "http://127.0.0.1:9/taken", &agent, &[]).await;
    let path = format!("/webhook/{id}");
    let r = s.patch(&path, key, json!({"endpoint": "http://127.0.0.1:9/q", "description": "new"})).await;
    assert_eq!((r.status, r.body["data"].as_str()), (StatusCode::OK, Some(id.as_str())), "{}", r.text);
    let got = s.get(&format!("/webhook?webhookId={id}"), key).await.body["data"].clone();
    assert_eq!((got["url"].as_str(), got["description"].as_str()), (Some("http://127.0.0.1:9/q"), Some("new")));

    let ten: serde_json::Map<String, Value> = (0..10).map(|i| (format!("x-h{i}"), json!("v"))).collect();
    assert_eq!(s.patch(&path, key, json!({"headers": ten})).await.status, StatusCode::OK);
    let eleven: serde_json::Map<String, Value> = (0..11).map(|i| (format!("x-h{i}"), json!("v"))).collect();
    let mut bad = vec![
        (json!({}), "At least one"),
        (json!({"headers": eleven}), "at most 10"),
        (json!({"headers": {"x-long": "a".repeat(1025)}}), "1024"),
        (json!({"headers": {"bad name": "v"}}), "RFC 7230"),
        (json!({"headers": {"x-n": 5}}), "Expected string"),
        (json!({"headers": ["x"]}), "Expected object"),
        (json!({"endpoint": "nope"}), "endpoint: Invalid url"),
        (json!({"endpoint": "http://127.0.0.1:9/taken"}), DUPLICATE),
    ];
    for name in ["X-Signature", "host", "Content-Length", "content-type", "connection", "Transfer-Encoding"] {
        bad.push((json!({"headers": {name: "v"}}), "reserved"));
    }
    for (body, msg) in bad {
        let r = s.patch(&path, key, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(r.error().contains(msg), "{body}: {}", r.error());
    }
    assert_eq!(s.patch(&path, key, json!({"headers": {"x-long": "a".repeat(1024)}})).await.status, StatusCode::OK);
    let r = s.patch("/webhook/nope", key, json!({"description": "x"})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, INVALID_ID));
    let r = s.patch("/webhook/aaaaaaaaaaaaaaaaaaaaaaaa", key, json!({"description": "x"})).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, NOT_FOUND));
}

#[tokio::test]
async fn delete_is_refused_while_assigned_and_follows_r139() {
    let s = TestServer::start().await;
    let key = "wh-delete";
    let (a1, a2) = (s.create_agent(key, "A1").await, s.create_agent(key, "A2").await);
    let id = create_webhook(&s, key, "http://127.0.0.1:9/d", &a1, &["pre-conversation"]).await;
    let r = s
        .post(
            &format!("/agent/{a2}/webhook-subscriptions"),
            key,
            json!({"webhookId": id, "eventTypes": ["post-conversation"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let path = format!("/webhook/{id}");
    for agent in [&a1, &a2] {
        let r = s.delete(&path, key).await;
        assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, ASSIGNED));
        let r = s.delete(&format!("/agent/{agent}/webhook-subscriptions"), key).await;
        assert_eq!((r.status, &r.body["data"]), (StatusCode::OK, &json!("Subscriptions deleted successfully")));
    }
    let r = s.delete("/webhook/not-an-id", key).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, INVALID_ID));
    let r = s.delete(&path, key).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({"status": true, "data": "Webhook deleted successfully"}));
    let r = s.delete(&path, key).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, NOT_FOUND));
    assert_eq!(s.get(&format!("/webhook?webhookId={id}"), key).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn agent_subscriptions_replace_all_across_webhooks_and_take_exactly_three_event_types() {
    let s = TestServer::start().await;
    let key = "wh-subs";
    let (agent, other) = (s.create_agent(key, "A").await, s.create_agent(key, "B").await);
    let w1 = create_webhook(&s, key, "http://127.0.0.1:9/1", &agent, &ALL_EVENTS).await;
    let w2 = create_webhook(&s, key, "http://127.0.0.1:9/2", &other, &["pre-conversation"]).await;
    let path = format!("/agent/{agent}/webhook-subscriptions");
    assert_eq!(s.get(&path, key).await.body["data"].as_array().map(Vec::len), Some(3));

    let r =
        s.post(&path, key, json!({"webhookId": w2, "eventTypes": ["analytics-completed", "post-conversation"]})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["data"], "Subscriptions created successfully");
    let subs = s.get(&path, key).await.body["data"].clone();
    let got: Vec<(&str, &str)> = subs
        .as_array()
        .expect("array")
        .iter()
        .map(|x| (x["webhookId"].as_str().unwrap_or(""), x["eventType"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(got, vec![(w2.as_str(), "analytics-completed"), (w2.as_str(), "post-conversation")]);
    assert_eq!(subs[0]["agentId"], agent.as_str(), "agentId is a plain string here (R140)");
    for k in ["_id", "createdAt", "updatedAt"] {
        assert!(subs[0][k].is_string(), "{k}");
    }
    let w1_subs = s.get(&format!("/webhook?webhookId={w1}"), key).await.body["data"]["subscriptions"].clone();
    assert_eq!(w1_subs, json!([]), "the old webhook lost this agent's subscriptions");
    let other_subs = s.get(&format!("/agent/{other}/webhook-subscriptions"), key).await.body["data"].clone();
    assert_eq!(other_subs.as_array().map(Vec::len), Some(1), "other agents keep theirs");

    let bad = [
        (
            json!({"webhookId": w2, "eventTypes": ["call.start"]}),
            StatusCode::BAD_REQUEST,
            "eventTypes.0: Invalid enum value",
        ),
        (json!({"webhookId": w2}), StatusCode::BAD_REQUEST, "eventTypes: Required"),
        (json!({"webhookId": "x", "eventTypes": []}), StatusCode::BAD_REQUEST, INVALID_ID),
        (json!({"webhookId": "aaaaaaaaaaaaaaaaaaaaaaaa", "eventTypes": []}), StatusCode::NOT_FOUND, NOT_FOUND),
    ];
    for (body, status, msg) in bad {
        let r = s.post(&path, key, body.clone()).await;
        assert_eq!(r.status, status, "{body}");
        assert!(r.error().starts_with(msg), "{body}: {}", r.error());
    }
    let unknown = "/agent/aaaaaaaaaaaaaaaaaaaaaaaa/webhook-subscriptions";
    for r in [
        s.get(unknown, key).await,
        s.post(unknown, key, json!({"webhookId": w2, "eventTypes": []})).await,
        s.delete(unknown, key).await,
    ] {
        assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Agent not found"));
    }
    assert_eq!(s.delete(&path, key).await.status, StatusCode::OK);
    assert_eq!(s.get(&path, key).await.body["data"], json!([]));
}

#[tokio::test]
async fn a_webhook_url_is_unique_across_organizations_r135() {
    let s = TestServer::start().await;
    let url = "http://127.0.0.1:9/hooks/shared";
    let first = s.post("/webhook", "sk_org_one", json!({"endpoint": url, "events": []})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = s.post("/webhook", "sk_org_two", json!({"endpoint": url, "events": []})).await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);
    assert_eq!(second.error(), "A webhook with this URL has already been registered");
    let other =
        s.post("/webhook", "sk_org_two", json!({"endpoint": "http://127.0.0.1:9/hooks/own", "events": []})).await;
    let id = other.body["data"].as_str().expect("id").to_string();
    let moved = s.patch(&format!("/webhook/{id}"), "sk_org_two", json!({"endpoint": url})).await;
    assert_eq!(moved.error(), "A webhook with this URL has already been registered");
    assert_eq!(s.get("/webhook", "sk_org_two").await.body["data"].as_array().map(Vec::len), Some(1));
}

/// R135 under contention: many organizations register (or move a webhook
/// to) one URL at the same moment; exactly one of them gets it, every
/// other one the duplicate-URL 400, round after round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_registrations_of_one_url_from_different_keys_have_exactly_one_winner() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let keys: Vec<String> = (0..8).map(|k| format!("sk_race_{k}")).collect();
    let mut moved: Vec<(String, String)> = Vec::new();
    for key in &keys {
        let own = format!("http://127.0.0.1:9/own/{key}");
        let r = s.post("/webhook", key, json!({"endpoint": own, "events": []})).await;
        moved.push((key.clone(), r.body["data"].as_str().expect("id").to_string()));
    }
    for round in 0..40 {
        let url = format!("http://127.0.0.1:9/race/{round}");
        let tasks: Vec<_> = keys
            .iter()
            .zip(&moved)
            .enumerate()
            .map(|(i, (key, (_, id)))| {
                let (s, key, id, url) = (std::sync::Arc::clone(&s), key.clone(), id.clone(), url.clone());
                tokio::spawn(async move {
                    // Half the keys create a webhook at the URL, half move theirs there.
                    if i % 2 == 0 {
                        s.post("/webhook", &key, json!({"endpoint": url, "events": []})).await
                    } else {
                        s.call(Method::PATCH, &format!("/webhook/{id}"), Some(&key), Some(json!({"endpoint": url})))
                            .await
                    }
                })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            let r = t.await.expect("task");
            match r.status {
                StatusCode::CREATED | StatusCode::OK => winners += 1,
                _ => assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, DUPLICATE), "round {round}"),
            }
        }
        assert_eq!(winners, 1, "round {round}: {winners} organizations hold {url}");
    }
}
