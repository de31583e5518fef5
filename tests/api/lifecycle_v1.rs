//! The v1 lifecycle of `versioning-lifecycle-v1.mdx`: the curl walkthrough
//! step by step, and one test per "Common pitfall" (BEHAVIOR R020, R033,
//! R046, R052, R056, R057).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestServer;

const KEY: &str = "sk_lifecycle";

#[tokio::test]
async fn curl_walkthrough_steps_answer_as_the_guide_says() {
    let s = TestServer::start().await;
    // 1. Create the agent with `language.switching`.
    let r =
        s.post("/agent", KEY, json!({"name": "lifecycle-demo", "language": {"switching": {"isEnabled": false}}})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let agent = r.body["data"].as_str().expect("bare id").to_string();
    // 2. The active version id is populated at once (R024).
    let active = s.active_version(KEY, &agent).await;
    assert_eq!(active.len(), 24);
    // 3. Fork a draft; read `.data.draftId`.
    let r = s.post(&format!("/agent/{agent}/drafts"), KEY, json!({"sourceVersionId": active})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["data"]["status"], "draft");
    let draft = r.body["data"]["draftId"].as_str().expect("draftId").to_string();
    // 4. Patch the config.
    let r = s
        .patch(
            &format!("/agent/{agent}/drafts/{draft}/config"),
            KEY,
            json!({"firstMessage": "Hello, this is the lifecycle demo agent."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // 5. Publish; read `.data._id`.
    let r =
        s.post(&format!("/agent/{agent}/drafts/{draft}/publish"), KEY, json!({"label": "v2 - greeting added"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["data"]["label"], "v2 - greeting added");
    assert_eq!(r.body["data"]["versionNumber"], 2);
    let version = r.body["data"]["_id"].as_str().expect("_id").to_string();
    // 6. Wait out the security check, then activate.
    s.advance(6.0).await;
    let r = s.patch(&format!("/agent/{agent}/versions/{version}/activate"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["isActive"], true);
    // 8. The resolved config carries the new first message.
    let r = s.get(&format!("/agent/{agent}"), KEY).await;
    assert_eq!(r.body["data"]["_resolvedConfig"]["firstMessage"], "Hello, this is the lifecycle demo agent.");
    assert_eq!(r.body["data"]["activeVersionId"], version.as_str());
    assert_eq!(r.body["data"]["versionId"], version.as_str());
}

#[tokio::test]
async fn pitfall_publish_does_not_auto_activate_even_with_activate_true() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "p1").await;
    let v1 = s.active_version(KEY, &agent).await;
    let draft = s.fork_draft(KEY, &agent).await;
    let r = s.post(&format!("/agent/{agent}/drafts/{draft}/publish"), KEY, json!({"activate": true})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["data"]["isActive"], false);
    s.advance(60.0).await;
    assert_eq!(s.active_version(KEY, &agent).await, v1, "publish must never activate (R056)");
}

#[tokio::test]
async fn pitfall_activate_immediately_after_publish_returns_a_security_check_error() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "p2").await;
    let draft = s.fork_draft(KEY, &agent).await;
    let version = s.publish(KEY, &agent, &draft).await;
    let path = format!("/agent/{agent}/versions/{version}");
    assert_eq!(s.get(&path, KEY).await.body["data"]["version"]["securityCheck"]["status"], "queued");
    let r = s.patch(&format!("{path}/activate"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error().contains("security check pending"), "{}", r.error());
    s.advance(5.9).await;
    assert_eq!(s.patch(&format!("{path}/activate"), KEY, json!({})).await.status, StatusCode::CONFLICT);
    s.advance(0.1).await;
    assert_eq!(s.get(&path, KEY).await.body["data"]["version"]["securityCheck"]["status"], "passed");
    let r = s.patch(&format!("{path}/activate"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["isActive"], true);
}

#[tokio::test]
async fn pitfall_post_drafts_requires_a_source_and_empty_body_returns_400() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "p3").await;
    let r = s.post(&format!("/agent/{agent}/drafts"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body, json!({"status": false, "errors": ["Either sourceVersionId or sourceDraftId is required"]}));
    let listed = s.get(&format!("/agent/{agent}/drafts"), KEY).await;
    assert_eq!(listed.body["data"], json!([]), "a rejected fork creates nothing");
}

#[tokio::test]
async fn pitfall_patch_on_the_draft_config_does_not_echo_the_patched_fields() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "p4").await;
    let draft = s.fork_draft(KEY, &agent).await;
    let r = s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, json!({"firstMessage": "echo?"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["draftRevision"], 2);
    assert!(!r.text.contains("echo?"), "config must not be echoed: {}", r.text);
    // The value is readable through the draft preview.
    let r = s.get(&format!("/agent/{agent}?draftId={draft}"), KEY).await;
    assert_eq!(r.body["data"]["_resolvedConfig"]["firstMessage"], "echo?");
    assert_eq!(r.body["data"]["_configSource"], "draft");
}

#[tokio::test]
async fn pitfall_post_agent_with_language_but_no_switching_returns_400() {
    let s = TestServer::start().await;
    let r = s.post("/agent", KEY, json!({"name": "p5", "language": {"default": "en", "supported": ["en"]}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "Invalid Input: Required");
    assert_eq!(s.post("/agent", KEY, json!({"name": "p5"})).await.status, StatusCode::CREATED);
    let listed = s.get("/agent", KEY).await;
    assert_eq!(listed.body["data"]["totalCount"], 1, "the rejected create stored nothing");
}

#[tokio::test]
async fn pitfall_delete_agent_returns_404_use_archive() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "p6").await;
    // The route does not exist: Express's 404 page (R033, LIVE T2).
    let r = s.delete(&format!("/agent/{agent}"), KEY).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains(&format!("<pre>Cannot DELETE /atoms/v1/agent/{agent}</pre>")), "{}", r.text);
    let r = s.delete(&format!("/agent/{agent}/archive"), KEY).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["message"], "Agent archived");
}

#[tokio::test]
async fn activating_an_older_version_rolls_back() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "rollback").await;
    let v1 = s.active_version(KEY, &agent).await;
    let draft = s.fork_draft(KEY, &agent).await;
    let edit = s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, json!({"firstMessage": "v2"})).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.text);
    let v2 = s.publish(KEY, &agent, &draft).await;
    s.advance(6.0).await;
    // Arrange: v2 is really active, so the rollback below has something to undo.
    let forward = s.patch(&format!("/agent/{agent}/versions/{v2}/activate"), KEY, json!({})).await;
    assert_eq!(forward.status, StatusCode::OK, "{}", forward.text);
    let on_v2 = s.get(&format!("/agent/{agent}"), KEY).await;
    assert_eq!(on_v2.body["data"]["activeVersionId"], v2.as_str());
    assert_eq!(on_v2.body["data"]["_resolvedConfig"]["firstMessage"], "v2");
    let r = s.patch(&format!("/agent/{agent}/versions/{v1}/activate"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let got = s.get(&format!("/agent/{agent}"), KEY).await;
    assert_eq!(got.body["data"]["activeVersionId"], v1.as_str());
    assert_eq!(got.body["data"]["_resolvedConfig"]["firstMessage"], "");
    let list = s.get(&format!("/agent/{agent}/versions"), KEY).await;
    assert_eq!(list.body["data"]["total"], 2);
    let actives: Vec<bool> =
        list.body["data"]["versions"].as_array().expect("list").iter().map(|v| v["isActive"] == true).collect();
    assert_eq!(actives, vec![false, true], "newest first, exactly one active");
    // Idempotent: activating the active version again returns it unchanged.
    let again = s.patch(&format!("/agent/{agent}/versions/{v1}/activate"), KEY, json!({})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(s.get(&format!("/agent/{agent}"), KEY).await.body["data"]["activeVersionId"], v1.as_str());
}

#[tokio::test]
async fn drafts_list_rename_discard_and_detail() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "drafts").await;
    let a = s.fork_draft(KEY, &agent).await;
    let b = s.post(&format!("/agent/{agent}/drafts"), KEY, json!({"sourceDraftId": a, "draftName": "second"})).await;
    assert_eq!(b.status, StatusCode::CREATED);
    let b_id = b.body["data"]["_id"].as_str().expect("_id").to_string();
    let list = s.get(&format!("/agent/{agent}/drafts"), KEY).await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(list.body["data"][0]["lastEditorName"], "API key");
    // Either the draftId or the record _id works in paths (R047).
    let r = s.patch(&format!("/agent/{agent}/drafts/{b_id}"), KEY, json!({"draftName": "renamed"})).await;
    assert_eq!(r.body, json!({"status": true, "data": {"draftName": "renamed"}}));
    let r = s.patch(&format!("/agent/{agent}/drafts/{b_id}"), KEY, json!({"draftName": ""})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    s.patch(&format!("/agent/{agent}/drafts/{a}/config"), KEY, json!({"slmModel": "gpt-4o"})).await;
    let detail = s.get(&format!("/agent/{agent}/drafts/{a}?limit=5"), KEY).await;
    assert_eq!(detail.body["data"]["editCount"], 1);
    assert_eq!(detail.body["data"]["editHistory"][0]["changedSections"], json!(["llm"]));
    let r = s.delete(&format!("/agent/{agent}/drafts/{a}"), KEY).await;
    assert_eq!(r.body, json!({"status": true, "data": null}));
    assert_eq!(s.delete(&format!("/agent/{agent}/drafts/{a}"), KEY).await.status, StatusCode::NOT_FOUND);
    let list = s.get(&format!("/agent/{agent}/drafts"), KEY).await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn published_draft_leaves_the_open_list_and_cannot_be_edited() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "published").await;
    let draft = s.fork_draft(KEY, &agent).await;
    s.publish(KEY, &agent, &draft).await;
    assert_eq!(s.get(&format!("/agent/{agent}/drafts"), KEY).await.body["data"], json!([]));
    let r = s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, json!({"firstMessage": "late"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s.post(&format!("/agent/{agent}/drafts/{draft}/publish"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn version_metadata_updates_but_config_is_immutable() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "meta").await;
    let v1 = s.active_version(KEY, &agent).await;
    let path = format!("/agent/{agent}/versions/{v1}");
    let r = s.patch(&path, KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.patch(&path, KEY, json!({"label": "stable", "isPinned": true, "firstMessage": "ignored"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["label"], "stable");
    assert_eq!(r.body["data"]["isPinned"], true);
    let r = s.patch(&path, KEY, json!({"label": "x".repeat(201)})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let got = s.get(&path, KEY).await;
    assert_eq!(got.body["data"]["version"]["label"], "stable");
    assert_eq!(got.body["data"]["resolvedConfig"]["call_handling"]["firstMessage"], "");
    let pinned = s.get(&format!("/agent/{agent}/versions?isPinned=false"), KEY).await;
    assert_eq!(pinned.body["data"]["versions"], json!([]));
    assert_eq!(pinned.body["data"]["total"], 1, "total counts every version (R059)");
}

#[tokio::test]
async fn version_diff_reports_changes_by_section_and_accepts_doc_aliases() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "diff").await;
    let v1 = s.active_version(KEY, &agent).await;
    let draft = s.fork_draft(KEY, &agent).await;
    s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, json!({"synthesizer": {"speed": 1.5}})).await;
    let v2 = s.publish(KEY, &agent, &draft).await;
    for q in [format!("versionA={v1}&versionB={v2}"), format!("baseId={v1}&compareId={v2}")] {
        let r = s.get(&format!("/agent/{agent}/versions/diff?{q}"), KEY).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.body["data"]["diffs"],
            json!([{"section": "voice", "changes": [{"path": "synthesizer.speed", "oldValue": 1.2, "newValue": 1.5}]}])
        );
        assert_eq!(r.body["data"]["unchangedSections"].as_array().map(Vec::len), Some(12));
    }
    let r = s.get(&format!("/agent/{agent}/versions/diff?versionA={v1}"), KEY).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.get(&format!("/agent/{agent}/versions/diff?versionA={v1}&versionB=nothex"), KEY).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn test_calls_return_the_documented_shapes() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "tc").await;
    let v1 = s.active_version(KEY, &agent).await;
    let draft = s.fork_draft(KEY, &agent).await;
    let r = s.post(&format!("/agent/{agent}/drafts/{draft}/test-call"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["data"]["callId"].as_str().is_some_and(|c| c.starts_with("CALL-")));
    let r = s.post(&format!("/agent/{agent}/versions/{v1}/test-call"), KEY, json!({"mode": "chat"})).await;
    for k in ["conversationId", "callId", "token", "roomName", "host"] {
        assert!(r.body["data"][k].is_string(), "{k} missing: {}", r.text);
    }
    let r = s
        .post(
            &format!("/agent/{agent}/versions/{v1}/test-call"),
            KEY,
            json!({"mode": "telephony", "toPhone": "+14155550100"}),
        )
        .await;
    assert!(r.body["data"].get("token").is_none());
    let r = s.post(&format!("/agent/{agent}/versions/{v1}/test-call"), KEY, json!({"mode": "telephony"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s
        .call(Method::POST, &format!("/agent/{agent}/versions/{v1}/test-call"), Some(KEY), Some(json!({"mode": "fax"})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
