//! Each API key is its own organization (BEHAVIOR R016): agents, drafts
//! and versions of one key are invisible to another.

use reqwest::StatusCode;
use serde_json::json;

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
