//! Concurrency (spec tag Concurrency; the Concurrency guide, CONC):
//! `GET /concurrency`, `PUT /concurrency/reservations` with the admin role,
//! and the call engine honouring reservations: a reserved agent always gets
//! its slots, the others share the rest, and the waiting calls start in
//! order when a slot frees.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::{agent, detail, outbound};
use crate::helpers::{Reply, TestServer};

const KEY: &str = "sk_concurrency";

async fn reserve(s: &TestServer, key: &str, items: Value) -> Reply {
    s.call(Method::PUT, "/concurrency/reservations", Some(key), Some(json!({"reservations": items}))).await
}

fn item(agent: &str, outbound: u32) -> Value {
    json!({"agentId": agent, "webcall": 0, "outbound": outbound, "inbound": 0, "chat": 0})
}

async fn set_limit(s: &TestServer, key: &str, limit: u32) {
    let r = s.admin(Method::PUT, &format!("/concurrency?apiKey={key}"), Some(json!({"limit": limit}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// `(running, queued)` from the control API.
async fn load(s: &TestServer, key: &str) -> (u64, u64) {
    let r = s.admin(Method::GET, &format!("/concurrency?apiKey={key}"), None).await;
    (r.body["running"].as_u64().expect("running"), r.body["queued"].as_u64().expect("queued"))
}

#[tokio::test]
async fn reservations_are_set_replaced_and_removed_and_the_limit_agrees_everywhere() {
    let s = TestServer::start().await;
    let (a, b) = (agent(&s, KEY, "Reserved").await, agent(&s, KEY, "Other").await);
    let r = s.get("/concurrency", KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"success": true, "data": {"orgLimit": 10, "totalReserved": 0, "unreservedPool": 10, "agents": []}})
    );
    let r = reserve(&s, KEY, json!([item(&a, 2), item(&b, 1), item(&b, 3)])).await;
    assert_eq!(r.body, json!({"success": true, "data": {"updated": 3}}), "{}", r.text);
    let d = s.get("/concurrency", KEY).await.body["data"].clone();
    assert_eq!((d["totalReserved"].as_u64(), d["unreservedPool"].as_u64()), (Some(5), Some(5)), "{d}");
    let row = d["agents"].as_array().expect("agents").iter().find(|r| r["agentId"] == a.as_str()).expect("a").clone();
    assert_eq!(
        row,
        json!({"agentId": a, "agentName": "Reserved", "avatarUrl": null, "webcall": 0, "outbound": 2, "inbound": 0, "chat": 0})
    );
    reserve(&s, KEY, json!([item(&b, 0)])).await;
    let d = s.get("/concurrency", KEY).await.body["data"].clone();
    assert_eq!(d["agents"].as_array().map(Vec::len), Some(1), "all zeros removes the agent: {d}");

    set_limit(&s, KEY, 4).await;
    assert_eq!(s.get("/concurrency", KEY).await.body["data"]["orgLimit"], 4, "one limit: control API and GET");
}

#[tokio::test]
async fn reservations_reject_members_bad_bodies_unknown_agents_and_totals_over_the_limit() {
    let s = TestServer::start().await;
    let a = agent(&s, KEY, "Reserved").await;
    let r = s.admin(Method::PUT, &format!("/access?apiKey={KEY}"), Some(json!({"role": "member"}))).await;
    assert_eq!(r.body["role"], "member", "{}", r.text);
    let r = reserve(&s, KEY, json!([item(&a, 1)])).await;
    assert_eq!((r.status, r.error()), (StatusCode::FORBIDDEN, "Admin role required"));
    s.admin(Method::PUT, &format!("/access?apiKey={KEY}"), Some(json!({"role": "admin"}))).await;
    for (body, message) in [
        (json!({}), "reservations: Required"),
        (json!({"reservations": []}), "reservations: Array must contain at least 1 element(s)"),
        (
            json!({"reservations": [{"agentId": a, "webcall": 0, "outbound": 1, "inbound": 0}]}),
            "reservations.0.chat: Required",
        ),
        (
            json!({"reservations": [item(&a, 1), {"agentId": "x", "webcall": 0, "outbound": 1, "inbound": 0, "chat": 0}]}),
            "Invalid agent id",
        ),
    ] {
        let r = s.call(Method::PUT, "/concurrency/reservations", Some(KEY), Some(body.clone())).await;
        assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, message), "{body}");
    }
    let r = reserve(&s, KEY, json!([item(&a, 1), item(&"c".repeat(24), 1)])).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Agent not found"));
    let r = reserve(&s, KEY, json!([item(&a, 11)])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "Total reserved concurrency (11) exceeds the organization's concurrency limit (10)");
    assert_eq!(s.get("/concurrency", KEY).await.body["data"]["totalReserved"], 0, "nothing changed");
    let r = s.admin(Method::PUT, &format!("/access?apiKey={KEY}"), Some(json!({"role": "boss"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}

/// CONC: under load from an unreserved agent, a reserved agent's calls
/// start at once up to its reservation, the others share what is left in
/// arrival order, and live calls never exceed the limit.
#[tokio::test]
async fn reservations_hold_under_load_and_queued_calls_start_in_order() {
    let s = TestServer::start().await;
    let (busy, vip) = (agent(&s, KEY, "Busy").await, agent(&s, KEY, "Vip").await);
    set_limit(&s, KEY, 3).await;
    reserve(&s, KEY, json!([item(&vip, 1)])).await;
    let mut crowd = Vec::new();
    for i in 0..6 {
        crowd.push(outbound(&s, KEY, &busy, &format!("+1415555020{i}"), None).await);
    }
    s.advance(0.0).await;
    assert_eq!(load(&s, KEY).await, (2, 4), "the unreserved agent shares 2 of 3 slots");
    let vip_call = outbound(&s, KEY, &vip, "+14155550300", None).await;
    s.advance(0.0).await;
    assert_eq!(detail(&s, KEY, &vip_call).await["status"], "in_progress", "its reserved slot was free");
    assert_eq!(load(&s, KEY).await, (3, 4));
    let vip_waits = outbound(&s, KEY, &vip, "+14155550301", None).await;
    s.advance(0.0).await;
    assert_eq!(detail(&s, KEY, &vip_waits).await["status"], "in_queue", "beyond its reservation it shares");

    let mut started_order = Vec::new();
    for _ in 0..600 {
        s.advance(1.0).await;
        let (running, _) = load(&s, KEY).await;
        assert!(running <= 3, "never more live calls than the limit");
        for id in crowd.iter().chain([&vip_waits]) {
            let st = detail(&s, KEY, id).await["status"].as_str().unwrap_or("").to_string();
            if st != "in_queue" && st != "pending" && !started_order.contains(id) {
                started_order.push(id.clone());
            }
        }
        if load(&s, KEY).await == (0, 0) {
            break;
        }
    }
    assert_eq!(load(&s, KEY).await, (0, 0), "every call ran");
    let crowd_order: Vec<&String> = started_order.iter().filter(|id| crowd.contains(id)).collect();
    assert_eq!(crowd_order, crowd.iter().collect::<Vec<_>>(), "waiting calls of one agent start in arrival order");
}

/// CONC: a realtime session without a free slot waits `in_queue` (client
/// messages get `no_session`), gets `session.created` when a slot frees,
/// and a client that leaves while waiting cancels its call and its place.
#[tokio::test]
async fn a_realtime_session_waits_for_a_slot_and_leaving_gives_up_its_place() {
    use crate::realtime::{is, raw_query, server, ws_url, Session, KEY as RT};
    let (s, agent) = server().await;
    set_limit(&s, RT, 1).await;
    let busy = outbound(&s, RT, &agent, "+14155550400", None).await;
    s.advance(0.0).await;
    assert_eq!(detail(&s, RT, &busy).await["status"], "in_progress");

    let mut waiting = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[]).await;
    s.until("the session's call waits", || async { load(&s, RT).await == (1, 1) }).await;
    waiting.send(json!({"type": "input_text.send", "text": "hello?"})).await;
    let first = waiting.until(&s, |_| true).await;
    assert_eq!((&first["type"], &first["code"]), (&json!("error"), &json!("no_session")), "{first}");

    let mut leaver = Session::open(&ws_url(&s, &raw_query(&agent, "")), &[]).await;
    s.until("a second session waits", || async { load(&s, RT).await == (1, 2) }).await;
    leaver.ws.close(None).await.expect("close");
    s.until("the leaver gave up its place", || async { load(&s, RT).await == (1, 1) }).await;

    s.advance(600.0).await;
    assert_ne!(detail(&s, RT, &busy).await["status"], "in_progress", "the outbound call ended");
    let created = waiting.until(&s, is("session.created")).await;
    let call_id = created["call_id"].as_str().expect("call_id").to_string();
    assert_eq!(detail(&s, RT, &call_id).await["status"], "in_progress");
    let calls = s.get("/conversation?limit=10&statusFilter=cancelled", RT).await;
    assert_eq!(calls.body["data"]["pagination"]["total"], 1, "the leaver's call ended cancelled: {}", calls.text);
}
