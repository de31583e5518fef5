//! The Do-Not-Call list (spec tag DNC): `GET /dnc` over manual uploads and
//! call outcomes, and its enforcement: an outbound call, a queued call, a
//! retry or a campaign member to a listed number is never dialled.

use atoms_mock::events::Milestone;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::{agent, detail, log_types, outbound, run_to_end};
use crate::campaigns::{audience, campaign, new_campaign, product};
use crate::helpers::{Reply, TestServer};

const KEY: &str = "sk_dnc";

async fn upload(s: &TestServer, key: &str, body: Value) -> Reply {
    s.admin(Method::POST, &format!("/dnc?apiKey={key}"), Some(body)).await
}

fn numbers(r: &Reply) -> Vec<&str> {
    r.body["data"]["entries"].as_array().expect("entries").iter().filter_map(|e| e["phoneNumber"].as_str()).collect()
}

/// Asserts `call` ended without being dialled (the DNC outcome).
fn assert_blocked(call: &Value) {
    assert_eq!(call["status"], "failed", "{call}");
    assert_eq!(call["disconnectionReason"], "system_error", "{call}");
    assert_eq!(call["callFailureReason"], "Number is on the Do-Not-Call list", "{call}");
    assert_eq!(call["duration"], 0, "{call}");
}

#[tokio::test]
async fn get_dnc_lists_manual_uploads_scoped_searched_sorted_and_paged() {
    let s = TestServer::start().await;
    let a = agent(&s, KEY, "scoped").await;
    let empty = s.get("/dnc", KEY).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert_eq!(
        empty.body,
        json!({"status": true, "data": {"entries": [],
               "pagination": {"page": 1, "offset": 50, "total": 0, "totalPages": 0, "hasMore": false}}})
    );
    let r = upload(&s, KEY, json!({"phoneNumbers": ["14155550123", "+14155550124"], "agentId": a})).await;
    assert_eq!(r.body, json!({"added": 2, "skipped": 0}), "{}", r.text);
    s.advance(1.0).await;
    let r = upload(&s, KEY, json!({"phoneNumbers": ["+12125550100", "+14155550123"]})).await;
    assert_eq!(r.body, json!({"added": 2, "skipped": 0}), "an org-wide entry is another scope: {}", r.text);
    let again = upload(&s, KEY, json!({"phoneNumbers": ["+12125550100"]})).await;
    assert_eq!(again.body, json!({"added": 0, "skipped": 1}));

    let all = s.get("/dnc", KEY).await;
    assert_eq!(all.body["data"]["pagination"]["total"], 4);
    let first = &all.body["data"]["entries"][0];
    let keys: Vec<&String> = first.as_object().expect("entry").keys().collect();
    assert_eq!(keys.len(), 7, "an org-wide entry has no agentId: {first}");
    assert_eq!(first["source"], "manual_upload");
    assert!(first["detectedInCallId"].is_null());

    let scoped = s.get(&format!("/dnc?agentId={a}&sortField=phoneNumber&sortOrder=asc"), KEY).await;
    assert_eq!(numbers(&scoped), ["+14155550123", "+14155550124"]);
    assert_eq!(scoped.body["data"]["entries"][0]["agentId"], a.as_str());
    let found = s.get("/dnc?search=2125", KEY).await;
    assert_eq!(numbers(&found), ["+12125550100"]);
    let page = s.get("/dnc?sortField=phoneNumber&sortOrder=asc&page=2&offset=3", KEY).await;
    assert_eq!(numbers(&page), ["+14155550124"]);
    assert_eq!(
        page.body["data"]["pagination"],
        json!({"page": 2, "offset": 3, "total": 4, "totalPages": 2, "hasMore": false})
    );
    assert_eq!(s.get("/dnc", "sk_other").await.body["data"]["pagination"]["total"], 0, "per organization");
}

#[tokio::test]
async fn get_dnc_rejects_bad_agents_and_sorts_in_the_envelope() {
    let s = TestServer::start().await;
    let r = s.get("/dnc?agentId=nope", KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid agent id"));
    let r = s.get(&format!("/dnc?agentId={}", "a".repeat(24)), KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Resource not found"));
    let r = s.get("/dnc?sortField=name", KEY).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "sortField: Invalid enum value. Expected 'createdAt' | 'phoneNumber', received 'name'");
    let r = upload(&s, KEY, json!({"phoneNumbers": ["+14155550123"], "agentId": "b".repeat(24)})).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Agent not found"));
    let r = upload(&s, KEY, json!({"phoneNumbers": ["+14155550123", "call me"]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(s.get("/dnc", KEY).await.body["data"]["pagination"]["total"], 0, "all or nothing");
    let r = s.call(Method::GET, "/dnc", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_outbound_call_to_a_listed_number_is_never_dialled_for_that_agent_only() {
    let s = TestServer::start().await;
    let (a, b) = (agent(&s, KEY, "listed").await, agent(&s, KEY, "other").await);
    upload(&s, KEY, json!({"phoneNumbers": ["14155550123"], "agentId": a})).await;
    let blocked = outbound(&s, KEY, &a, "+14155550123", None).await;
    s.advance(0.0).await;
    let d = detail(&s, KEY, &blocked).await;
    assert_blocked(&d);
    let types = log_types(&d);
    assert!(!types.iter().any(|t| t == "call_start"), "never dialled: {types:?}");
    let sse = s.http.get(format!("{}/events?callId={blocked}", s.base())).bearer_auth(KEY).send().await.expect("sse");
    let sse = sse.text().await.expect("sse body");
    assert!(!sse.contains("\"call_start\""), "{sse}");
    assert!(sse.contains("\"disconnect_reason\":\"system_error\"") && sse.contains("Do-Not-Call"), "call_end: {sse}");
    let (milestones, _) = s.server.state().calls.bus().subscribe_from(0);
    let post = milestones.iter().find(|m| m.milestone == Milestone::PostConversation && m.call.call_id == blocked);
    assert!(post.is_some_and(|m| m.call.blocked_by.is_some()), "the post-conversation webhook follows");

    let other = run_to_end(&s, KEY, &outbound(&s, KEY, &b, "+14155550123", None).await, 120).await;
    assert_eq!(other["status"], "completed", "another agent may call it: {other}");

    let r = s.admin(Method::POST, &format!("/calls/{blocked}/retry?apiKey={KEY}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let retry = r.body["callId"].as_str().expect("callId").to_string();
    s.advance(0.0).await;
    assert_blocked(&detail(&s, KEY, &retry).await);
}

#[tokio::test]
async fn a_queued_call_to_a_number_listed_while_it_waits_is_not_dialled_and_frees_its_turn() {
    let s = TestServer::start().await;
    let a = agent(&s, KEY, "queue").await;
    s.admin(Method::PUT, &format!("/concurrency?apiKey={KEY}"), Some(json!({"limit": 1}))).await;
    let running = outbound(&s, KEY, &a, "+14155550100", None).await;
    let listed = outbound(&s, KEY, &a, "+14155550123", None).await;
    let next = outbound(&s, KEY, &a, "+14155550101", None).await;
    s.advance(0.0).await;
    assert_eq!(detail(&s, KEY, &listed).await["status"], "in_queue");
    upload(&s, KEY, json!({"phoneNumbers": ["+14155550123"]})).await;
    run_to_end(&s, KEY, &running, 120).await;
    assert_blocked(&detail(&s, KEY, &listed).await);
    assert_eq!(detail(&s, KEY, &next).await["status"], "in_progress", "the slot went to the next call");
}

#[tokio::test]
async fn an_opt_out_call_lists_the_number_for_its_agent_and_the_next_call_is_blocked() {
    let s = TestServer::start().await;
    let a = agent(&s, KEY, "opt-out").await;
    let first = outbound(&s, KEY, &a, "+15005550009", None).await;
    let ended = run_to_end(&s, KEY, &first, 120).await;
    assert_eq!(ended["status"], "completed", "{ended}");
    let list = s.get("/dnc", KEY).await;
    let entry = &list.body["data"]["entries"][0];
    assert_eq!(entry["phoneNumber"], "+15005550009");
    assert_eq!((entry["source"].as_str(), entry["agentId"].as_str()), (Some("call_outcome"), Some(a.as_str())));
    assert_eq!(entry["detectedInCallId"], first.as_str());
    let second = outbound(&s, KEY, &a, "+15005550009", None).await;
    s.advance(0.0).await;
    assert_blocked(&detail(&s, KEY, &second).await);
}

#[tokio::test]
async fn campaign_members_on_the_list_are_counted_not_called_and_never_retried() {
    let s = TestServer::start().await;
    let a = s.create_agent(KEY, "Campaigner").await;
    upload(&s, KEY, json!({"phoneNumbers": ["+15551000002"]})).await;
    let aud = audience(&s, KEY, "phone,name\n+15551000001,Ann\n+15551000002,Bob\n").await;
    let body = json!({"name": "DNC", "agentId": a, "audienceId": aud, "maxRetries": 2, "retryDelay": 15,
                      "phoneNumberIds": [product(&s, KEY).await]});
    let id = new_campaign(&s, KEY, body).await;
    let r = s.post(&format!("/campaign/{id}/start"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    s.advance(10.0 * 60.0).await;
    let d = campaign(&s, KEY, &id).await;
    assert_eq!(d["campaign"]["status"], "completed", "{d}");
    assert_eq!(d["campaign"]["retryAttempts"], 0, "a blocked member is never retried");
    assert_eq!(d["metrics"], json!({"total_participants": 2, "contacts_called": 1, "contacts_connected": 1}));
}
