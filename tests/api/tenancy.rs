//! Each API key is its own organization (BEHAVIOR R016): agents, drafts
//! and versions of one key are invisible to another.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestServer;

#[tokio::test]
async fn two_keys_never_see_each_others_agents_drafts_or_versions() {
    let s = TestServer::start().await;
    let (a, b) = ("sk_tenant_a", "sk_tenant_b");
    let agent = s.create_agent(a, "only-a").await;
    let version = s.active_version(a, &agent).await;
    let draft = s.fork_draft(a, &agent).await;

    assert_eq!(
        s.get("/agent", b).await.body["data"],
        json!({"agents": [], "hasMore": false, "isSearchResults": false, "totalCount": 0, "totalPages": 0})
    );
    assert_eq!(s.get(&format!("/agent/{agent}"), b).await.error(), "No agent found");
    for path in [
        format!("/agent/{agent}/drafts"),
        format!("/agent/{agent}/drafts/{draft}"),
        format!("/agent/{agent}/drafts/{draft}/diff"),
        format!("/agent/{agent}/versions"),
        format!("/agent/{agent}/versions/{version}"),
    ] {
        let r = s.get(&path, b).await;
        assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Agent not found"), "{path}");
    }
    let writes = [
        s.patch(&format!("/agent/{agent}"), b, json!({"name": "hijack"})).await,
        s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), b, json!({"firstMessage": "hijack"})).await,
        s.post(&format!("/agent/{agent}/drafts/{draft}/publish"), b, json!({})).await,
        s.patch(&format!("/agent/{agent}/versions/{version}/activate"), b, json!({})).await,
        s.delete(&format!("/agent/{agent}/archive"), b).await,
    ];
    for w in writes {
        assert_eq!(w.status, StatusCode::NOT_FOUND, "{}", w.text);
    }
    let mine = s.get(&format!("/agent/{agent}"), a).await.body;
    assert_eq!(mine["data"]["name"], "only-a");
    assert_eq!(mine["data"]["archived"], false);
    assert_eq!(s.get(&format!("/agent/{agent}/drafts/{draft}/diff"), a).await.body["data"]["hasChanges"], false);
}

#[tokio::test]
async fn reset_of_one_key_leaves_the_others() {
    let s = TestServer::start().await;
    s.create_agent("sk_keep", "keep").await;
    s.create_agent("sk_drop", "drop").await;
    let url = format!("{}/_admin/reset?apiKey=sk_drop", s.root());
    assert_eq!(s.raw(reqwest::Method::POST, &url, None, None).await.status, StatusCode::OK);
    assert_eq!(s.get("/agent", "sk_drop").await.body["data"]["totalCount"], 0);
    assert_eq!(s.get("/agent", "sk_keep").await.body["data"]["totalCount"], 1);
    let url = format!("{}/_admin/reset", s.root());
    s.raw(reqwest::Method::POST, &url, None, None).await;
    assert_eq!(s.get("/agent", "sk_keep").await.body["data"]["totalCount"], 0);
    assert_eq!(s.get("/agent", "sk_demo").await.body["data"]["totalCount"], 1, "fixture agents come back after reset");
}

/// The demo key's rented numbers (E.164, sorted) and its agent.
async fn demo_numbers(s: &TestServer) -> (Vec<String>, Value) {
    let numbers = s.get("/product/phone-numbers", "sk_demo").await.body["data"].clone();
    let agent = s.get("/agent", "sk_demo").await.body["data"]["agents"][0].clone();
    let numbers = numbers.as_array().expect("numbers").clone();
    assert!(numbers.iter().all(|n| n["agentId"] == agent["_id"]), "attached to the fixture agent: {numbers:?}");
    let mut e164: Vec<String> =
        numbers.iter().filter_map(|n| n["attributes"]["phoneNumber"].as_str().map(str::to_string)).collect();
    e164.sort_unstable();
    (e164, agent)
}

/// The embedded fixtures give `sk_demo` a believable account (issue 11):
/// its agent holds two rented numbers, the ledger shows both rentals, the
/// Do-Not-Call list is empty; a reset rents the same numbers again.
#[tokio::test]
async fn the_demo_key_starts_with_two_rented_numbers_on_its_agent_and_gets_them_back_after_reset() {
    let s = TestServer::start().await;
    let (rented, agent) = demo_numbers(&s).await;
    assert_eq!(rented.len(), 2, "{rented:?}");
    let mut on_agent: Vec<String> = agent["phoneNumber"]
        .as_array()
        .expect("phoneNumber")
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    on_agent.sort_unstable();
    assert_eq!(on_agent, rented);
    let ledger =
        s.raw(reqwest::Method::GET, &format!("{}/payment/v1/credits/ledger", s.root()), Some("sk_demo"), None).await;
    let rentals: Vec<&str> = ledger.body["data"]["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .filter(|t| t["featureId"] == "atoms.phone_number.rental")
        .filter_map(|t| t["description"].as_str())
        .collect();
    assert_eq!(rentals.len(), 2, "{}", ledger.text);
    assert!(rented.iter().all(|n| rentals.iter().any(|d| d.contains(n.as_str()))), "{rentals:?}");
    assert_eq!(s.get("/dnc", "sk_demo").await.body["data"]["pagination"]["total"], 0, "an empty Do-Not-Call list");

    s.raw(reqwest::Method::POST, &format!("{}/_admin/reset", s.root()), None, None).await;
    assert_eq!(demo_numbers(&s).await.0, rented, "the same numbers, rented again after reset");
}

#[tokio::test]
async fn admin_clock_reports_virtual_time_in_iso() {
    let s = TestServer::start().await;
    let r = s.admin(reqwest::Method::GET, "/clock", None).await;
    assert_eq!(r.body["mode"], "virtual");
    assert_eq!(r.body["now"], "2026-01-01T00:00:00Z");
    s.advance(90.5).await;
    let r = s.admin(reqwest::Method::GET, "/clock", None).await;
    assert_eq!(r.body["now"], "2026-01-01T00:01:30Z");
}

#[tokio::test]
async fn a_full_reset_restores_the_control_switches() {
    let s = TestServer::start().await;
    let r = s.admin(reqwest::Method::PATCH, "/realtime", Some(json!({"draining": true}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s.admin(reqwest::Method::PUT, "/scenarios/default", Some(json!({"scenario": "busy"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    s.admin(reqwest::Method::POST, "/reset", None).await;
    let realtime = s.admin(reqwest::Method::GET, "/realtime", None).await;
    assert_eq!(realtime.body["draining"], false, "{}", realtime.text);
    let scenarios = s.admin(reqwest::Method::GET, "/scenarios", None).await;
    assert_eq!(scenarios.body["assignments"]["default"], "happy-path", "{}", scenarios.text);
    let deliveries = s.admin(reqwest::Method::GET, "/webhooks/deliveries", None).await;
    assert_eq!(deliveries.body["deliveries"], json!([]), "{}", deliveries.text);
}

/// `--max-organizations` (`domain::org_budget` OB1–OB4): past the bound a
/// new key forgets the least recently used idle organization, as a
/// per-key reset would; a busy one (a call not yet ended) and the fixture
/// key stay.
#[tokio::test]
async fn past_the_organization_bound_a_new_key_forgets_the_least_recently_used_idle_one() {
    let config = atoms_mock::Config { max_organizations: 3, ..atoms_mock::Config::for_tests() };
    let s = TestServer::with_config(config).await;
    let (idle, busy, new) = ("sk_orgs_idle", "sk_orgs_busy", "sk_orgs_new");
    let agent = s.create_agent(idle, "forgotten").await;
    let numbers = s.get("/product/phone-numbers", "sk_demo").await.body["data"].clone();
    let caller = s.create_agent(busy, "caller").await;
    let r = s.post("/conversation/outbound", busy, json!({"agentId": caller, "phoneNumber": "+14155550123"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let call = r.body["data"]["conversationId"].as_str().expect("call id").to_string();
    assert_eq!(s.get("/user", "sk_demo").await.status, StatusCode::OK, "the fixture key is the most recent use");

    assert_eq!(s.get("/user", new).await.status, StatusCode::OK, "a fourth organization");
    let r = s.get(&format!("/agent/{agent}"), idle).await;
    assert_eq!(r.error(), "No agent found", "OB4: the idle organization was forgotten: {}", r.text);
    assert_eq!(s.get("/agent", idle).await.body["data"]["totalCount"], 0, "it starts again empty");
    let r = s.get(&format!("/conversation/{call}"), busy).await;
    assert_eq!(r.status, StatusCode::OK, "OB2: an organization with a live call stays: {}", r.text);
    assert_eq!(s.get("/agent", "sk_demo").await.body["data"]["totalCount"], 1, "OB2: the fixture key stays");
    assert_eq!(s.get("/product/phone-numbers", "sk_demo").await.body["data"], numbers);
}
