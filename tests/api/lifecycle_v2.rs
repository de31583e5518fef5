//! The v2 lifecycle of `versioning-lifecycle.mdx` (branches and
//! revisions) step by step on the virtual clock, plus the rules around
//! it: R075's 409 on v1 endpoints, optimistic concurrency, publish
//! 200/202, restore, make-live, archive, tenancy and bad input (BEHAVIOR
//! §D, R068–R101, L-D2–L-D5).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestServer};

const KEY: &str = "sk_lifecycle_v2";

const MIGRATION: &str = "This endpoint is deprecated under the branch model. Use the /agents/:id/branches APIs — publish, make-live and config edits now happen on branches. If you are calling this via the MCP server, update the MCP tool to its branch-model version as well.";

/// Switches `key`'s organization with `PUT /_admin/versioning`.
async fn set_versioning(s: &TestServer, key: &str, body: Value) {
    let r = s.admin(Method::PUT, &format!("/versioning?apiKey={key}"), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// A server with `KEY` in v2 mode and one agent; returns it and the Main
/// branch id.
async fn v2_agent(name: &str) -> (TestServer, String, String) {
    let s = TestServer::start().await;
    set_versioning(&s, KEY, json!({"mode": "v2"})).await;
    let agent = s.create_agent(KEY, name).await;
    let main = main_branch(&s, KEY, &agent).await;
    (s, agent, main)
}

async fn main_branch(s: &TestServer, key: &str, agent: &str) -> String {
    let r = s.get(&format!("/agent/{agent}/branches"), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = r.body["data"]["branches"].as_array().expect("branches").clone();
    let main = list.iter().find(|b| b["branch"]["isDefault"] == true).expect("default branch");
    main["branch"]["_id"].as_str().expect("_id").to_string()
}

async fn put_draft(s: &TestServer, agent: &str, branch: &str, body: Value) -> Reply {
    s.call(Method::PUT, &format!("/agent/{agent}/branches/{branch}/draft"), Some(KEY), Some(body)).await
}

async fn publish(s: &TestServer, agent: &str, branch: &str, label: &str) -> Reply {
    s.post(&format!("/agent/{agent}/branches/{branch}/draft/publish"), KEY, json!({"label": label})).await
}

/// PUT + publish + wait out the scan; returns the committed revision id.
async fn commit(s: &TestServer, agent: &str, branch: &str, config: Value) -> String {
    let r = put_draft(s, agent, branch, config).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = publish(s, agent, branch, "x").await;
    if r.status == StatusCode::OK {
        return r.body["data"]["revision"]["_id"].as_str().expect("revision").to_string();
    }
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    s.advance(6.0).await;
    newest(s, agent, branch).await["_id"].as_str().expect("_id").to_string()
}

async fn newest(s: &TestServer, agent: &str, branch: &str) -> Value {
    let r = s.get(&format!("/agent/{agent}/branches/{branch}/revisions?limit=1"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"]["revisions"][0].clone()
}

#[tokio::test]
async fn the_v2_guide_walkthrough_answers_step_by_step() {
    let s = TestServer::start().await;
    set_versioning(&s, KEY, json!({"mode": "v2"})).await;
    // 1. Create the agent.
    let r =
        s.post("/agent", KEY, json!({"name": "lifecycle-demo", "language": {"switching": {"isEnabled": false}}})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let agent = r.body["data"].as_str().expect("id").to_string();
    // 2. Main is the only branch, live, headed by revision 1 (R069, R070).
    let r = s.get(&format!("/agent/{agent}/branches"), KEY).await;
    let list = r.body["data"]["branches"].as_array().expect("branches").clone();
    assert_eq!(list.len(), 1);
    let main = &list[0];
    assert_eq!(main["branch"]["name"], "Main");
    assert_eq!(main["branch"]["isDefault"], true);
    assert_eq!(main["branch"]["sourceBranchId"], Value::Null);
    assert_eq!((main["isLive"].clone(), main["hasOpenDraft"].clone()), (json!(true), json!(false)));
    assert_eq!((main["revisionsCount"].clone(), main["headRevisionNumber"].clone()), (json!(1), json!(1)));
    let branch = main["branch"]["_id"].as_str().expect("_id").to_string();
    let v1 = s.active_version(KEY, &agent).await;
    assert_eq!(main["branch"]["headRevisionId"], v1.as_str());
    // 3. Two PUTs build up one draft (R080).
    let prompt = "You are a friendly receptionist. Book appointments and answer questions.";
    let r = put_draft(&s, &agent, &branch, json!({"globalPrompt": prompt})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["status"], "draft");
    assert_eq!(r.body["data"]["draftRevision"], 1);
    let draft_id = r.body["data"]["draftId"].clone();
    let r = put_draft(&s, &agent, &branch, json!({"firstMessage": "Hi, how can I help?"})).await;
    assert_eq!((r.body["data"]["draftRevision"].clone(), r.body["data"]["draftId"].clone()), (json!(2), draft_id));
    // 4. Publish: 202 scanning without a revision (R086, L-D3).
    let r = publish(&s, &agent, &branch, "Initial config").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["data"], json!({"state": "scanning"}));
    let rev = newest(&s, &agent, &branch).await;
    assert_eq!(rev["status"], "draft", "not published while scanning (L-D5)");
    assert_eq!(rev["securityCheck"]["status"], "queued");
    assert_eq!(rev["pendingPublish"]["state"], "active");
    let rev_id = rev["_id"].as_str().expect("_id").to_string();
    let rev_path = format!("/agent/{agent}/branches/{branch}/revisions/{rev_id}");
    assert_eq!(s.active_version(KEY, &agent).await, v1, "nothing changes before the scan passes");
    s.advance(5.9).await;
    assert_eq!(s.get(&rev_path, KEY).await.body["data"]["revision"]["status"], "draft");
    s.advance(0.1).await;
    let r = s.get(&rev_path, KEY).await;
    let done = &r.body["data"]["revision"];
    assert_eq!((done["status"].clone(), done["revisionNumber"].clone()), (json!("published"), json!(2)));
    assert_eq!(done["securityCheck"]["status"], "passed");
    assert_eq!(done["label"], "Initial config");
    assert_eq!(done["versionNumber"], Value::Null);
    assert_eq!(r.body["data"]["resolvedConfig"]["firstMessage"], "Hi, how can I help?");
    // Main is live, so the commit is the active config at once (R089, L-D2).
    let r = s.get(&format!("/agent/{agent}"), KEY).await;
    assert_eq!(r.body["data"]["activeVersionId"], rev_id.as_str());
    assert_eq!(r.body["data"]["versionId"], rev_id.as_str());
    assert_eq!(r.body["data"]["_resolvedConfig"]["globalPrompt"], prompt);
    let r = s.get(&format!("/agent/{agent}/branches/{branch}"), KEY).await;
    assert_eq!(r.body["data"]["hasOpenDraft"], false);
    assert_eq!(r.body["data"]["branch"]["openDraftId"], Value::Null);
    // 5. Test-call the revision (R096).
    let r = s
        .post(
            &format!("/agent/{agent}/branches/{branch}/test-call"),
            KEY,
            json!({"revisionId": rev_id, "mode": "webcall"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["data"]["callId"].as_str().is_some_and(|c| c.starts_with("CALL-")), "{}", r.text);
    assert!(r.body["data"]["token"].is_string());
    // The v1 by-id read resolves the revision id too (R076, R101).
    let r = s.get(&format!("/agent/{agent}/versions/{rev_id}"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn v1_write_and_list_endpoints_answer_the_migration_409_in_v2_mode() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "mig").await;
    let v1 = s.active_version(KEY, &agent).await;
    let draft = s.fork_draft(KEY, &agent).await;
    set_versioning(&s, KEY, json!({"mode": "v2"})).await;
    let calls = [
        (Method::POST, format!("/agent/{agent}/drafts")),
        (Method::GET, format!("/agent/{agent}/drafts")),
        (Method::PATCH, format!("/agent/{agent}/drafts/{draft}")),
        (Method::DELETE, format!("/agent/{agent}/drafts/{draft}")),
        (Method::PATCH, format!("/agent/{agent}/drafts/{draft}/config")),
        (Method::POST, format!("/agent/{agent}/drafts/{draft}/publish")),
        (Method::GET, format!("/agent/{agent}/versions")),
        (Method::PATCH, format!("/agent/{agent}/versions/{v1}")),
        (Method::PATCH, format!("/agent/{agent}/versions/{v1}/activate")),
    ];
    for (m, path) in calls {
        let res = s
            .http
            .request(m.clone(), format!("{}{path}", s.base()))
            .bearer_auth(KEY)
            .json(&json!({"firstMessage": "x"}))
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::CONFLICT, "{m} {path}");
        assert_eq!(res.headers().get("deprecation").and_then(|h| h.to_str().ok()), Some("true"), "{m} {path}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(
            body,
            json!({"status": false, "error_type": "versioning_v2_migration_required", "errors": [MIGRATION]}),
            "{m} {path}"
        );
    }
    // Kept: by-id reads and test calls (R076), with `Deprecation: true` (L-C4).
    for path in [
        format!("/agent/{agent}/drafts/{draft}"),
        format!("/agent/{agent}/drafts/{draft}/diff"),
        format!("/agent/{agent}/versions/{v1}"),
        format!("/agent/{agent}/versions/diff?versionA={v1}&versionB={v1}"),
    ] {
        let res = s.http.get(format!("{}{path}", s.base())).bearer_auth(KEY).send().await.expect("send");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers().get("deprecation").and_then(|h| h.to_str().ok()), Some("true"), "{path}");
    }
    let r = s.post(&format!("/agent/{agent}/versions/{v1}/test-call"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Another organization switched to v1 mode: branch routes do not exist
    // there (Express's 404 page, LIVE T2).
    set_versioning(&s, "sk_still_v1", json!({"mode": "v1"})).await;
    let other = s.create_agent("sk_still_v1", "v1").await;
    assert_eq!(s.get(&format!("/agent/{other}/versions"), "sk_still_v1").await.status, StatusCode::OK);
    let r = s.get(&format!("/agent/{other}/branches"), "sk_still_v1").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "branch routes do not exist in v1 mode");
    assert!(r.text.contains(&format!("<pre>Cannot GET /atoms/v1/agent/{other}/branches</pre>")), "{}", r.text);
}

#[tokio::test]
async fn a_v1_agent_switched_to_v2_keeps_its_active_version_as_main_head() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "switch").await;
    let v2 = s.release(KEY, &agent, json!({"firstMessage": "from v1"})).await;
    set_versioning(&s, KEY, json!({"mode": "v2"})).await;
    let main = main_branch(&s, KEY, &agent).await;
    let r = s.get(&format!("/agent/{agent}/branches/{main}"), KEY).await;
    assert_eq!(r.body["data"]["branch"]["headRevisionId"], v2.as_str());
    assert_eq!(r.body["data"]["headRevisionNumber"], 2);
    let rev = newest(&s, &agent, &main).await;
    assert_eq!((rev["_id"].clone(), rev["versionNumber"].clone()), (json!(v2), json!(2)));
    let r = s.get(&format!("/agent/{agent}/branches/{main}/revisions/{v2}"), KEY).await;
    assert_eq!(r.body["data"]["resolvedConfig"]["firstMessage"], "from v1");
}

#[tokio::test]
async fn edits_to_different_fields_merge_and_the_same_leaf_conflicts() {
    let (s, agent, main) = v2_agent("occ").await;
    let r = put_draft(&s, &agent, &main, json!({"firstMessage": "a", "expectedRevision": 0})).await;
    assert_eq!(r.body["data"]["draftRevision"], 1, "{}", r.text);
    // Alice (based on 1) edits the prompt; Bob (also based on 1) edits the
    // voice detection: different leaves merge.
    let r = put_draft(&s, &agent, &main, json!({"globalPrompt": "alice", "expectedRevision": 1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r =
        put_draft(&s, &agent, &main, json!({"voiceDetectionConfig": {"confidence": 0.5}, "expectedRevision": 1})).await;
    assert_eq!((r.status, r.body["data"]["draftRevision"].clone()), (StatusCode::OK, json!(3)), "{}", r.text);
    // Carol, based on 1 too, touches the prompt Alice changed: 409 (R082).
    let r = put_draft(&s, &agent, &main, json!({"globalPrompt": "carol", "expectedRevision": 1})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["status"], false);
    assert_eq!(r.body["errors"], json!(["globalPrompt"]));
    let c = &r.body["data"]["conflict"];
    assert_eq!((c["expectedRevision"].clone(), c["latestRevision"].clone()), (json!(1), json!(3)));
    assert_eq!(c["diffs"][0]["path"], "globalPrompt");
    assert_eq!(c["diffs"][0]["latestValue"], "alice");
    // A sibling leaf of a changed object is not a conflict.
    let r =
        put_draft(&s, &agent, &main, json!({"voiceDetectionConfig": {"minVolume": 0.3}, "expectedRevision": 1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Without expectedRevision: last write wins.
    let r = put_draft(&s, &agent, &main, json!({"globalPrompt": "carol"})).await;
    assert_eq!(r.status, StatusCode::OK);
    // An unknown base: 409 base_revision_unavailable (R083).
    let r = put_draft(&s, &agent, &main, json!({"firstMessage": "z", "expectedRevision": 99})).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::CONFLICT, json!({"status": false, "errors": ["base_revision_unavailable"]}))
    );
    // The draft detail shows every edit, newest first (R084).
    let r = s.get(&format!("/agent/{agent}/branches/{main}/draft"), KEY).await;
    assert_eq!(r.body["data"]["editCount"], 5);
    assert_eq!(r.body["data"]["latest"]["draftRevision"], 5);
    assert_eq!(r.body["data"]["editHistory"][0]["changedSections"], json!(["workflow_graph"]));
    let r = s.get(&format!("/agent/{agent}?versionId={}", s.active_version(KEY, &agent).await), KEY).await;
    assert_eq!(r.body["data"]["_resolvedConfig"]["globalPrompt"], "", "the head is untouched by draft edits");
}

#[tokio::test]
async fn republishing_scanned_content_commits_at_once_with_200() {
    let (s, agent, main) = v2_agent("republish").await;
    let first = commit(&s, &agent, &main, json!({"firstMessage": "one"})).await;
    commit(&s, &agent, &main, json!({"firstMessage": "two"})).await;
    // Back to content that already passed a scan: 200 committed (R086).
    put_draft(&s, &agent, &main, json!({"firstMessage": "one"})).await;
    let r = publish(&s, &agent, &main, "again").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["state"], "committed");
    let rev = &r.body["data"]["revision"];
    assert_eq!((rev["status"].clone(), rev["revisionNumber"].clone()), (json!("published"), json!(4)));
    assert_ne!(rev["_id"], first.as_str());
    assert_eq!(s.active_version(KEY, &agent).await, rev["_id"].as_str().expect("id"));
}

#[tokio::test]
async fn a_failed_scan_commits_nothing_and_unchanged_content_is_rejected_until_edited() {
    let (s, agent, main) = v2_agent("scan-fail").await;
    set_versioning(&s, KEY, json!({"scan": "fail"})).await;
    let head = s.active_version(KEY, &agent).await;
    put_draft(&s, &agent, &main, json!({"firstMessage": "risky"})).await;
    assert_eq!(publish(&s, &agent, &main, "risky").await.status, StatusCode::ACCEPTED);
    let rev = newest(&s, &agent, &main).await["_id"].as_str().expect("id").to_string();
    s.advance(6.0).await;
    let r = s.get(&format!("/agent/{agent}/branches/{main}/revisions/{rev}"), KEY).await;
    assert_eq!(r.body["data"]["revision"]["securityCheck"]["status"], "failed");
    assert_eq!(r.body["data"]["revision"]["status"], "draft");
    assert_eq!(s.active_version(KEY, &agent).await, head);
    assert_eq!(newest(&s, &agent, &main).await["_id"], head.as_str(), "no revision was published (L-D4)");
    let r = s.get(&format!("/agent/{agent}/branches/{main}"), KEY).await;
    assert_eq!(r.body["data"]["hasOpenDraft"], true, "the draft stays open");
    let r = publish(&s, &agent, &main, "again").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    // Edit and publish again: allowed, and passes once the switch is off.
    set_versioning(&s, KEY, json!({"scan": "pass"})).await;
    put_draft(&s, &agent, &main, json!({"firstMessage": "safer"})).await;
    assert_eq!(publish(&s, &agent, &main, "safer").await.status, StatusCode::ACCEPTED);
    s.advance(6.0).await;
    assert_eq!(newest(&s, &agent, &main).await["status"], "published");
}

#[tokio::test]
async fn one_publish_at_a_time_per_branch_and_cancel_is_idempotent() {
    let (s, agent, main) = v2_agent("in-flight").await;
    put_draft(&s, &agent, &main, json!({"firstMessage": "a"})).await;
    assert_eq!(publish(&s, &agent, &main, "a").await.status, StatusCode::ACCEPTED);
    let r = publish(&s, &agent, &main, "b").await;
    assert_eq!((r.status, r.body["error_type"].clone()), (StatusCode::CONFLICT, json!("publish_in_progress")));
    let head = s.active_version(KEY, &agent).await;
    let r = s.post(&format!("/agent/{agent}/branches/{main}/revisions/{head}/restore"), KEY, json!({})).await;
    assert_eq!(r.body["error_type"], "publish_in_progress", "{}", r.text);
    let cancel = format!("/agent/{agent}/branches/{main}/draft/publish/cancel");
    for _ in 0..2 {
        let r = s.post(&cancel, KEY, json!({})).await;
        assert_eq!((r.status, r.body["data"].clone()), (StatusCode::OK, json!({"cancelled": true})));
    }
    s.advance(10.0).await;
    assert_eq!(s.active_version(KEY, &agent).await, head, "a cancelled scan never commits");
    assert_eq!(newest(&s, &agent, &main).await["_id"], head.as_str());
}

#[tokio::test]
async fn restore_appends_a_copy_at_the_head_and_leaves_the_draft_alone() {
    let (s, agent, main) = v2_agent("restore").await;
    let v1 = s.active_version(KEY, &agent).await;
    commit(&s, &agent, &main, json!({"firstMessage": "two"})).await;
    commit(&s, &agent, &main, json!({"firstMessage": "three"})).await;
    put_draft(&s, &agent, &main, json!({"globalPrompt": "wip"})).await;
    let r = s.post(&format!("/agent/{agent}/branches/{main}/revisions/{v1}/restore"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["state"], "committed");
    let v4 = &r.body["data"]["revision"];
    assert_eq!(v4["revisionNumber"], 4);
    assert_eq!(v4["restoredFromRevisionId"], v1.as_str());
    assert_eq!(v4["restoredFromLabel"], "Version 1");
    let v4_id = v4["_id"].as_str().expect("id").to_string();
    let r = s.get(&format!("/agent/{agent}/branches/{main}/revisions"), KEY).await;
    let numbers: Vec<Value> =
        r.body["data"]["revisions"].as_array().expect("list").iter().map(|v| v["revisionNumber"].clone()).collect();
    assert_eq!(numbers, vec![json!(4), json!(3), json!(2), json!(1)]);
    assert_eq!(r.body["data"]["total"], 4);
    let r = s.get(&format!("/agent/{agent}/diff?a={v1}&b={v4_id}"), KEY).await;
    assert_eq!(r.body["data"]["diffs"], json!([]), "v4 equals v1");
    assert_eq!(s.active_version(KEY, &agent).await, v4_id, "live branch: immediate");
    let r = s.get(&format!("/agent/{agent}/branches/{main}/draft"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "the draft survives a restore");
    let r = s.get(&format!("/agent/{agent}/diff?a={v4_id}&b={main}:draft"), KEY).await;
    let paths: Vec<Value> = r.body["data"]["diffs"]
        .as_array()
        .expect("diffs")
        .iter()
        .flat_map(|d| d["changes"].as_array().cloned().unwrap_or_default())
        .map(|c| c["path"].clone())
        .collect();
    assert_eq!(paths, vec![json!("globalPrompt"), json!("firstMessage")], "{}", r.text);
    // History: the earlier revisions in order.
    let r = s.get(&format!("/agent/{agent}/branches/{main}/revisions/{v4_id}/history"), KEY).await;
    let trail: Vec<Value> = r.body["data"]["trail"]
        .as_array()
        .expect("trail")
        .iter()
        .map(|t| t["revision"]["revisionNumber"].clone())
        .collect();
    assert_eq!(trail, vec![json!(1), json!(2), json!(3)]);
}

#[tokio::test]
async fn make_live_switches_the_active_config_and_enforces_its_rules() {
    let (s, agent, main) = v2_agent("live").await;
    let r = s.post(&format!("/agent/{agent}/branches"), KEY, json!({"sourceBranchId": main, "name": "staging"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let staging = r.body["data"]["_id"].as_str().expect("_id").to_string();
    assert_eq!(r.body["data"]["headRevisionId"], Value::Null);
    assert_eq!(r.body["data"]["sourceRevisionId"], s.active_version(KEY, &agent).await.as_str());
    // No commit yet: 409 no_committed_revision (R079).
    let live = format!("/agent/{agent}/branches/{staging}/live");
    let r = s.post(&live, KEY, json!({})).await;
    assert_eq!((r.status, r.body["error_type"].clone()), (StatusCode::CONFLICT, json!("no_committed_revision")));
    // Publishing on a non-live branch stages without touching production.
    let main_head = s.active_version(KEY, &agent).await;
    let rev = commit(&s, &agent, &staging, json!({"firstMessage": "staged"})).await;
    assert_eq!(s.active_version(KEY, &agent).await, main_head);
    let r = s.post(&live, KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["isLive"], true);
    assert_eq!(s.active_version(KEY, &agent).await, rev);
    let r = s.get(&format!("/agent/{agent}/branches"), KEY).await;
    let lives: Vec<bool> =
        r.body["data"]["branches"].as_array().expect("list").iter().map(|b| b["isLive"] == true).collect();
    assert_eq!(lives, vec![false, true], "exactly one live branch");
    // The live branch cannot be archived; Main (default) cannot either.
    let r = s.post(&format!("/agent/{agent}/branches/{staging}/archive"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.post(&format!("/agent/{agent}/branches/{main}/archive"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Back to Main; now staging may be archived, and then not made live.
    assert_eq!(s.post(&format!("/agent/{agent}/branches/{main}/live"), KEY, json!({})).await.status, StatusCode::OK);
    assert_eq!(s.active_version(KEY, &agent).await, main_head);
    let r = s.post(&format!("/agent/{agent}/branches/{staging}/archive"), KEY, json!({})).await;
    assert_eq!((r.status, r.body["data"].clone()), (StatusCode::OK, json!({"archived": true})));
    assert_eq!(s.post(&live, KEY, json!({})).await.status, StatusCode::FORBIDDEN, "L-D6");
    let r = s.get(&format!("/agent/{agent}/branches"), KEY).await;
    assert_eq!(r.body["data"]["branches"].as_array().expect("list").len(), 1, "archived branches leave the list");
    let r = s.get(&format!("/agent/{agent}/branches/{staging}/revisions/{rev}"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "revisions stay readable");
    // The name is free again once archived.
    let r = s.post(&format!("/agent/{agent}/branches"), KEY, json!({"sourceBranchId": main, "name": "staging"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn branch_names_are_unique_main_is_reserved_and_the_default_cannot_be_renamed() {
    let (s, agent, main) = v2_agent("names").await;
    let create = |name: &str| json!({"sourceBranchId": main, "name": name});
    assert_eq!(s.post(&format!("/agent/{agent}/branches"), KEY, create("exp")).await.status, StatusCode::CREATED);
    for name in ["exp", "main", "MAIN"] {
        let r = s.post(&format!("/agent/{agent}/branches"), KEY, create(name)).await;
        assert_eq!(
            (r.status, r.body["error_type"].clone()),
            (StatusCode::CONFLICT, json!("branch_name_exists")),
            "{name}"
        );
    }
    let r = s.patch(&format!("/agent/{agent}/branches/{main}"), KEY, json!({"name": "trunk"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.post(&format!("/agent/{agent}/branches"), KEY, create("other")).await;
    let other = r.body["data"]["_id"].as_str().expect("id").to_string();
    let r = s.patch(&format!("/agent/{agent}/branches/{other}"), KEY, json!({"name": "exp"})).await;
    assert_eq!(r.body["error_type"], "branch_name_exists");
    let r = s.patch(&format!("/agent/{agent}/branches/{other}"), KEY, json!({"name": "renamed"})).await;
    assert_eq!((r.status, r.body["data"]["name"].clone()), (StatusCode::OK, json!("renamed")));
}

#[tokio::test]
async fn discarding_the_draft_keeps_the_head_and_a_second_discard_is_404() {
    let (s, agent, main) = v2_agent("discard").await;
    let head = s.active_version(KEY, &agent).await;
    put_draft(&s, &agent, &main, json!({"firstMessage": "tmp"})).await;
    let path = format!("/agent/{agent}/branches/{main}/draft");
    let r = s.delete(&path, KEY).await;
    assert_eq!((r.status, r.body["data"].clone()), (StatusCode::OK, json!({"discarded": true})));
    assert_eq!(s.delete(&path, KEY).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&path, KEY).await.status, StatusCode::NOT_FOUND);
    assert_eq!(publish(&s, &agent, &main, "x").await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.active_version(KEY, &agent).await, head);
}

#[tokio::test]
async fn another_organization_sees_none_of_the_branches() {
    let (s, agent, main) = v2_agent("tenancy").await;
    let other = "sk_lifecycle_v2_other";
    set_versioning(&s, other, json!({"mode": "v2"})).await;
    for path in [
        format!("/agent/{agent}/branches"),
        format!("/agent/{agent}/branches/{main}"),
        format!("/agent/{agent}/branches/{main}/revisions"),
    ] {
        let r = s.get(&path, other).await;
        assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Agent not found"), "{path}");
    }
    let r = s
        .call(
            Method::PUT,
            &format!("/agent/{agent}/branches/{main}/draft"),
            Some(other),
            Some(json!({"firstMessage": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&format!("/agent/{agent}/branches/{main}/draft"), KEY).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_gets_400s_naming_the_problem() {
    let (s, agent, main) = v2_agent("bad").await;
    for body in [json!({}), json!({"workflow_prompt": {"prompt": "x"}}), json!({"name": "only metadata"})] {
        let r = put_draft(&s, &agent, &main, body.clone()).await;
        assert_eq!(
            (r.status, r.error()),
            (StatusCode::BAD_REQUEST, "No recognized config fields in request body"),
            "{body}"
        );
    }
    let r = put_draft(&s, &agent, &main, json!({"firstMessage": 5})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().starts_with("firstMessage"), "{}", r.error());
    let r = put_draft(&s, &agent, &main, json!({"firstMessage": "x", "expectedRevision": -1})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.get(&format!("/agent/{agent}/branches/not-an-id"), KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid branch id"));
    let r = s.get(&format!("/agent/{agent}/branches/{}", "a".repeat(24)), KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Resource not found"));
    let r = s.post(&format!("/agent/{agent}/branches"), KEY, json!({"name": "x"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.post(&format!("/agent/{agent}/branches"), KEY, json!({"sourceBranchId": main, "name": ""})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.get(&format!("/agent/{agent}/diff?a=nope"), KEY).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s
        .post(
            &format!("/agent/{agent}/branches/{main}/test-call"),
            KEY,
            json!({"includeDraft": true, "revisionId": "a".repeat(24)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.post(&format!("/agent/{agent}/branches/{main}/test-call"), KEY, json!({"includeDraft": true})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no open draft");
    let r = s.admin(Method::PUT, "/versioning?apiKey=k", Some(json!({"mode": "v3"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.admin(Method::GET, "/versioning", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// AH3 (`domain::history_budget`): a branch draft keeps its last 1,000
/// edits and revision configs. Past them, a batch of the oldest goes:
/// `editCount` still counts every edit, and an `expectedRevision` older
/// than what is kept answers the platform's 409 `base_revision_unavailable`.
#[tokio::test]
async fn a_branch_draft_keeps_its_last_edits_and_counts_them_all_ah3() {
    let (s, agent, main) = v2_agent("ah3").await;
    let edits = 1_001;
    for i in 1..=edits {
        let r = put_draft(&s, &agent, &main, json!({"firstMessage": format!("edit {i}")})).await;
        assert_eq!(r.status, StatusCode::OK, "edit {i}: {}", r.text);
    }
    let r = s.get(&format!("/agent/{agent}/branches/{main}/draft?limit=100"), KEY).await;
    assert_eq!(r.body["data"]["editCount"], edits, "{}", r.text);
    assert_eq!(r.body["data"]["latest"]["draftRevision"], edits);
    let r = put_draft(&s, &agent, &main, json!({"globalPrompt": "late", "expectedRevision": 1})).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::CONFLICT, json!({"status": false, "errors": ["base_revision_unavailable"]})),
        "revision 1's config is no longer kept"
    );
    let r = put_draft(&s, &agent, &main, json!({"globalPrompt": "recent", "expectedRevision": edits - 1})).await;
    assert_eq!(r.status, StatusCode::OK, "a recent base still merges: {}", r.text);
}

/// AH6 (`domain::history_budget`): an agent keeps at most 100 archived
/// branches; archiving the 101st forgets a batch of the oldest archived
/// ones, which then answer 404, while the newer ones stay readable.
#[tokio::test]
async fn past_100_archived_branches_the_oldest_archived_ones_are_forgotten_ah6() {
    let (s, agent, main) = v2_agent("ah6").await;
    let mut archived = Vec::new();
    for i in 0..101 {
        let r = s
            .post(&format!("/agent/{agent}/branches"), KEY, json!({"sourceBranchId": main, "name": format!("b{i}")}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "create {i}: {}", r.text);
        let branch =
            r.body["data"]["_id"].as_str().or(r.body["data"]["branch"]["_id"].as_str()).expect("id").to_string();
        let r = s.post(&format!("/agent/{agent}/branches/{branch}/archive"), KEY, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "archive {i}: {}", r.text);
        archived.push(branch);
    }
    let gone = 101 - (100 - 100 / 16);
    for b in &archived[..gone] {
        let r = s.get(&format!("/agent/{agent}/branches/{b}"), KEY).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "AH6: the oldest archived branches went: {}", r.text);
    }
    for b in &archived[gone..] {
        let r = s.get(&format!("/agent/{agent}/branches/{b}"), KEY).await;
        assert_eq!(r.status, StatusCode::OK, "AH6: the newer ones stay: {}", r.text);
    }
    assert_eq!(s.get(&format!("/agent/{agent}/branches/{main}"), KEY).await.status, StatusCode::OK, "Main stays");
}

/// R017: while a config freeze is active (`PUT /_admin/versioning`
/// `{configFreeze: true}`), the v2 writes answer 423 in the spec's
/// `LockedErrorResponse` shape and change nothing; reads and test calls
/// pass; lifting the freeze lets the writes in again.
#[tokio::test]
async fn r017_a_config_freeze_answers_423_on_v2_writes_and_lets_reads_and_test_calls_pass() {
    let (s, agent, main) = v2_agent("frozen").await;
    let r = s.admin(Method::PUT, &format!("/versioning?apiKey={KEY}"), Some(json!({"configFreeze": true}))).await;
    assert_eq!(r.body["configFreeze"], true, "{}", r.text);
    let before = s.get(&format!("/agent/{agent}/branches"), KEY).await;
    let writes = [
        s.post(&format!("/agent/{agent}/branches"), KEY, json!({"name": "exp", "sourceBranchId": main})).await,
        s.patch(&format!("/agent/{agent}/branches/{main}"), KEY, json!({"name": "renamed"})).await,
        s.post(&format!("/agent/{agent}/branches/{main}/live"), KEY, json!({})).await,
        put_draft(&s, &agent, &main, json!({"firstMessage": "frozen?"})).await,
        publish(&s, &agent, &main, "frozen").await,
    ];
    for r in writes {
        assert_eq!(r.status, StatusCode::LOCKED, "{}", r.text);
        assert_eq!(r.body["error_type"], "config_freeze_active", "{}", r.text);
        assert_eq!(r.body["status"], false);
        assert!(r.error().contains("configuration freeze"), "{}", r.text);
    }
    let after = s.get(&format!("/agent/{agent}/branches"), KEY).await;
    assert_eq!((after.status, &after.body), (StatusCode::OK, &before.body), "reads pass; nothing changed");
    let r = s.post(&format!("/agent/{agent}/branches/{main}/test-call"), KEY, json!({"mode": "webcall"})).await;
    assert_eq!(r.status, StatusCode::OK, "test calls pass: {}", r.text);
    set_versioning(&s, KEY, json!({"configFreeze": false})).await;
    let r = put_draft(&s, &agent, &main, json!({"firstMessage": "thawed"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
