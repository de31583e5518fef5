//! The call-store budget (`--call-store-bytes`, rules CB1–CB4 of
//! `atoms_mock::domain::call_budget`): with room for about one ended call,
//! the call that ended first is evicted and answers like an unknown call
//! (R115), a newer one and a live one stay, lists drop the evicted call
//! and the analytics keep counting it. The clock is virtual; nothing
//! sleeps.

use atoms_mock::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::call_helpers::*;
use crate::helpers::TestServer;

const KEY: &str = "sk_call_store";
const PHONE: &str = "+14155550123";

/// The approximate bytes (CB2) one happy-path call holds once ended, read
/// from a probe server running the same script with the default budget.
async fn bytes_of_one_call() -> usize {
    let probe = TestServer::start().await;
    let agent = agent(&probe, KEY, "probe").await;
    let id = outbound(&probe, KEY, &agent, PHONE, None).await;
    run_to_end(&probe, KEY, &id, 600).await;
    let (bytes, calls) = probe.server.state().calls.stored_ended();
    assert_eq!(calls, 1, "the ended call is reported to the budget at its end");
    assert!(bytes > 1000, "an ended call holds its record and event log: {bytes} bytes");
    bytes
}

fn ids_listed(body: &serde_json::Value) -> Vec<String> {
    body["data"]["logs"].as_array().expect("logs").iter().map(|l| l["callId"].as_str().unwrap_or("").into()).collect()
}

#[tokio::test]
async fn the_oldest_ended_call_is_evicted_while_a_newer_and_a_live_one_stay_cb3_cb4() {
    let one = bytes_of_one_call().await;
    let config = Config { call_store_bytes: one + one / 2, concurrency_limit: 1, ..Config::for_tests() };
    let s = TestServer::with_config(config).await;
    let agent = agent(&s, KEY, "budget").await;

    let oldest = outbound(&s, KEY, &agent, PHONE, None).await;
    run_to_end(&s, KEY, &oldest, 600).await;
    // One slot: `newer` runs, `live` waits in the queue (CB1: a call not
    // yet ended is never evicted).
    let newer = outbound(&s, KEY, &agent, PHONE, None).await;
    let live = outbound(&s, KEY, &agent, PHONE, None).await;
    s.advance(0.0).await;
    assert_eq!(detail(&s, KEY, &live).await["status"], "in_queue");
    run_to_end(&s, KEY, &newer, 600).await;

    let gone = s.get(&format!("/conversation/{oldest}"), KEY).await;
    let unknown = s.get("/conversation/CALL-1767225600000-abcdef", KEY).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "CB4: the evicted call is gone: {}", gone.text);
    assert_eq!(gone.body, unknown.body, "CB4: it answers as an unknown call does (R115)");
    let events = open_events(&s, KEY, &oldest).await;
    assert_eq!(events.status(), StatusCode::NOT_FOUND, "its event log went with it");
    assert!(detail(&s, KEY, &newer).await["endedAt"].is_string(), "the newer ended call stays");
    let status = detail(&s, KEY, &live).await["status"].clone();
    assert!(status == "in_progress" || status == "in_queue", "the live call stays: {status}");

    let list = s.get("/conversation?limit=50", KEY).await.body;
    let listed = ids_listed(&list);
    assert!(!listed.contains(&oldest), "CB4: lists no longer show it: {listed:?}");
    assert_eq!(list["data"]["pagination"]["total"], 2, "nor count it (the default list's index): {list}");
    assert!(listed.contains(&newer) && listed.contains(&live), "{listed:?}");

    // The live call ends in turn: now `newer` is the oldest and goes, and
    // the analytics still count all three.
    run_to_end(&s, KEY, &live, 600).await;
    assert_eq!(s.get(&format!("/conversation/{newer}"), KEY).await.status, StatusCode::NOT_FOUND);
    assert_eq!(detail(&s, KEY, &live).await["status"], "completed");
    let summary = s.get("/analytics/summary", KEY).await;
    assert_eq!(summary.body["data"]["totalCalls"]["current"].as_f64(), Some(3.0), "CB4: {}", summary.text);
    let (bytes, calls) = s.server.state().calls.stored_ended();
    assert_eq!(calls, 1);
    assert!(bytes <= one + one / 2, "CB3: {bytes} bytes kept over the budget");
}

/// CB5: with no room for ended calls, every call is evicted as it ends and
/// its analytics row goes to the row budget, which keeps the newest two;
/// the kept rows travel with the organization's exported state, so another
/// server answers the same figures.
#[tokio::test]
async fn evicted_calls_count_within_the_analytics_budget_and_travel_with_the_state_cb5() {
    let rows = atoms_mock::domain::analytics::ROW_BYTES;
    let config = || Config { call_store_bytes: 0, analytics_bytes: 2 * rows, ..Config::for_tests() };
    let s = TestServer::with_config(config()).await;
    let agent = agent(&s, KEY, "rows").await;
    for _ in 0..3 {
        outbound(&s, KEY, &agent, PHONE, None).await;
        s.advance(600.0).await; // long past its end: the call is gone at once (budget 0)
    }
    let summary = s.get("/analytics/summary", KEY).await;
    assert_eq!(summary.body["data"]["totalCalls"]["current"].as_f64(), Some(2.0), "CB5: {}", summary.text);
    assert_eq!(s.server.state().calls.kept_rows(), (2 * rows, 2));
    assert_eq!(s.server.state().calls.stored_ended().1, 0, "CB3 with a budget of 0");

    let doc = s.admin(Method::GET, &format!("/state?apiKey={KEY}"), None).await.body;
    assert_eq!(doc["organization"]["calls"]["calls"], json!([]), "no call is stored");
    assert_eq!(doc["organization"]["analytics"].as_array().map(Vec::len), Some(2), "{doc}");

    let other = TestServer::with_config(config()).await;
    let now = s.admin(Method::GET, "/clock", None).await.body["nowMs"].as_i64().expect("nowMs");
    let then = other.admin(Method::GET, "/clock", None).await.body["nowMs"].as_i64().expect("nowMs");
    other.advance((now - then) as f64 / 1000.0).await;
    let r = other.admin(Method::PUT, &format!("/state?apiKey={KEY}"), Some(doc.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(other.get("/analytics/summary", KEY).await.body, summary.body, "the same figures after an import");
    assert_eq!(other.server.state().calls.kept_rows(), (2 * rows, 2), "the imported rows count in its budget");

    let mut twice = doc.clone();
    let row = twice["organization"]["analytics"][0].clone();
    twice["organization"]["analytics"].as_array_mut().expect("rows").push(row);
    let r = other.admin(Method::PUT, "/state?apiKey=sk_call_store_twice", Some(twice)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.error().contains("appears twice"), "{}", r.text);
}
