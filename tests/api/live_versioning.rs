//! The `LIVE.md` facts about versioning (V1–V4) and the caller ID (K1),
//! against a server with no versioning or CORS flags. Flows that wait for
//! the 6-second security check or a call's milestones use the test
//! configuration, whose only differences from no flags are the virtual
//! clock and the seed, so time is moved instead of waited out.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::account::rent_number;
use crate::helpers::TestServer;
use crate::webhooks::{create_webhook, receiver, wait, ALL_EVENTS};

const KEY: &str = "sk_live_versioning";
const MIGRATION: &str = "versioning_v2_migration_required";

/// The live branch's id and head revision id.
async fn main_branch(s: &TestServer, agent: &str) -> (String, String) {
    let r = s.get(&format!("/agent/{agent}/branches"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = &r.body["data"]["branches"][0]["branch"];
    (b["_id"].as_str().expect("id").into(), b["headRevisionId"].as_str().expect("head").into())
}

async fn put_draft(s: &TestServer, agent: &str, branch: &str, body: Value) -> crate::helpers::Reply {
    s.call(Method::PUT, &format!("/agent/{agent}/branches/{branch}/draft"), Some(KEY), Some(body)).await
}

/// Publishes the branch draft and moves the clock past its scan; returns
/// the new head revision id.
async fn publish(s: &TestServer, agent: &str, branch: &str) -> String {
    let r = s.post(&format!("/agent/{agent}/branches/{branch}/draft/publish"), KEY, json!({"label": "l"})).await;
    assert_eq!((r.status, r.body["data"]["state"].clone()), (StatusCode::ACCEPTED, json!("scanning")), "{}", r.text);
    s.advance(6.0).await;
    let r = s.get(&format!("/agent/{agent}/branches/{branch}"), KEY).await;
    r.body["data"]["branch"]["headRevisionId"].as_str().expect("head").to_string()
}

#[tokio::test]
async fn live_v1_a_v1_flow_and_a_v2_flow_share_one_server_and_key() {
    let s = TestServer::start().await;
    let v = s.admin(Method::GET, &format!("/versioning?apiKey={KEY}"), None).await;
    assert_eq!((v.body["mode"].clone(), v.body["default"].clone()), (json!("auto"), json!("auto")));
    let (old, new) = (s.create_agent(KEY, "v1 client").await, s.create_agent(KEY, "v2 client").await);

    // A v1 client: draft, edit, publish, activate.
    let version = s.release(KEY, &old, json!({"firstMessage": "v1 hello"})).await;
    let a = s.get(&format!("/agent/{old}"), KEY).await.body["data"].clone();
    assert_eq!(
        (a["activeVersionId"].as_str(), a["_resolvedConfig"]["firstMessage"].clone()),
        (Some(version.as_str()), json!("v1 hello"))
    );

    // A v2 client on another agent: its first branch call moves it.
    let (main, _) = main_branch(&s, &new).await;
    assert_eq!(put_draft(&s, &new, &main, json!({"firstMessage": "v2 hello"})).await.status, StatusCode::OK);
    let head = publish(&s, &new, &main).await;
    let a = s.get(&format!("/agent/{new}"), KEY).await.body["data"].clone();
    assert_eq!(
        (a["activeVersionId"].as_str(), a["_resolvedConfig"]["firstMessage"].clone()),
        (Some(head.as_str()), json!("v2 hello"))
    );

    // The v2-touched agent answers R075's 409 on its v1 writes and lists...
    for (m, path) in [(Method::POST, format!("/agent/{new}/drafts")), (Method::GET, format!("/agent/{new}/versions"))] {
        let r = s.call(m.clone(), &path, Some(KEY), Some(json!({"sourceVersionId": head}))).await;
        assert_eq!((r.status, r.body["error_type"].clone()), (StatusCode::CONFLICT, json!(MIGRATION)), "{m} {path}");
    }
    // ...while its by-id reads keep working, with `Deprecation: true` (R076).
    let res =
        s.http.get(format!("{}/agent/{new}/versions/{head}", s.base())).bearer_auth(KEY).send().await.expect("send");
    assert_eq!(
        (res.status(), res.headers().get("deprecation").map(|h| h.as_bytes().to_vec())),
        (StatusCode::OK, Some(b"true".to_vec()))
    );
    // The v1 agent is untouched: still the full v1 flow.
    assert_eq!(s.get(&format!("/agent/{old}/versions"), KEY).await.status, StatusCode::OK);
    let r = s.post(&format!("/agent/{old}/drafts"), KEY, json!({"sourceVersionId": version})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // A diff of two revision ids reads v1 versions and moves nothing.
    let r = s.get(&format!("/agent/{old}/diff?a={version}&b={version}"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(s.get(&format!("/agent/{old}/drafts"), KEY).await.status, StatusCode::OK);
}

#[tokio::test]
async fn live_v2_a_branch_keeps_its_draft_after_a_publish_and_the_next_edit_builds_on_it() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "v2").await;
    let (main, _) = main_branch(&s, &agent).await;
    let r = s.get(&format!("/agent/{agent}/branches/{main}/draft"), KEY).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a branch that never had a draft");
    put_draft(&s, &agent, &main, json!({"firstMessage": "one"})).await;
    put_draft(&s, &agent, &main, json!({"globalPrompt": "two"})).await;
    publish(&s, &agent, &main).await;

    let r = s.get(&format!("/agent/{agent}/branches/{main}/draft"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let revision = r.body["data"]["latest"]["draftRevision"].as_u64().expect("draftRevision");
    assert_eq!(revision, 2);
    let b = s.get(&format!("/agent/{agent}/branches/{main}"), KEY).await.body["data"].clone();
    assert_eq!((b["hasOpenDraft"].clone(), b["branch"]["openDraftId"].clone()), (json!(false), Value::Null));

    let r = put_draft(&s, &agent, &main, json!({"firstMessage": "three", "expectedRevision": revision})).await;
    assert_eq!((r.status, r.body["data"]["draftRevision"].clone()), (StatusCode::OK, json!(3)), "{}", r.text);
    let head = publish(&s, &agent, &main).await;
    let r = s.get(&format!("/agent/{agent}/branches/{main}/revisions/{head}"), KEY).await;
    assert_eq!(r.body["data"]["resolvedConfig"]["firstMessage"], "three");
    assert_eq!(r.body["data"]["resolvedConfig"]["globalPrompt"], "two");
}

#[tokio::test]
async fn live_v3_tools_written_through_the_branch_draft_show_at_workflow_tools() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "v3").await;
    let (main, _) = main_branch(&s, &agent).await;
    let tool = json!({
        "type": "transfer_call", "name": "transfer_call", "description": "Hand over", "enabled": true,
        "transferNumber": "+15551234567", "transferOption": {"type": "warm_transfer"}
    });
    let r = put_draft(&s, &agent, &main, json!({"singlePromptConfig": {"tools": [tool]}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let head = publish(&s, &agent, &main).await;
    let r = s.get(&format!("/agent/{agent}/branches/{main}/revisions/{head}"), KEY).await;
    assert_eq!(r.body["data"]["resolvedConfig"]["workflow_tools"]["tools"], json!([tool]));

    // v1 versions read the same way.
    let other = s.create_agent(KEY, "v3-v1").await;
    let version = s.release(KEY, &other, json!({"singlePromptConfig": {"tools": [tool]}})).await;
    let r = s.get(&format!("/agent/{other}/versions/{version}"), KEY).await;
    assert_eq!(r.body["data"]["resolvedConfig"]["workflow_tools"]["tools"], json!([tool]));
}

#[tokio::test]
async fn live_v4_the_v1_diffs_answer_in_both_shapes() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "v4").await;
    let v1 = s.active_version(KEY, &agent).await;
    let draft = s.fork_draft(KEY, &agent).await;
    let patch = json!({"firstMessage": "hi", "synthesizer": {"speed": 1.5}, "pronunciationDicts": [{"word": "a", "pronunciation": "b"}]});
    assert_eq!(s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, patch).await.status, StatusCode::OK);
    let v2 = s.publish(KEY, &agent, &draft).await;
    for path in [
        format!("/agent/{agent}/drafts/{draft}/diff"),
        format!("/agent/{agent}/versions/diff?versionA={v1}&versionB={v2}"),
    ] {
        let d = s.get(&path, KEY).await.body["data"].clone();
        let mut k: Vec<&String> = d.as_object().expect("object").keys().collect();
        k.sort();
        assert_eq!(k, ["diffs", "hasChanges", "sections", "unchangedSections"], "{path}");
        let paths: Vec<&str> = d["diffs"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["changes"].as_array().into_iter().flatten())
            .filter_map(|c| c["path"].as_str())
            .collect();
        // The vendor's live test matches `field`, `field.sub` / `field[...]`, `synthesizer.*`.
        assert_eq!(paths, ["synthesizer.speed", "pronunciationDicts", "firstMessage"], "{path}");
        assert_eq!((d["hasChanges"].clone(), d["sections"]["voice"]["changed"].clone()), (json!(true), json!(true)));
        assert!(d["unchangedSections"].as_array().is_some_and(|u| u.contains(&json!("privacy"))));
    }
}

#[tokio::test]
async fn live_k1_the_caller_id_is_the_product_then_the_agent_number_then_the_managed_default() {
    let s = TestServer::start_no_flags().await;
    let callee = "+14155550123";
    let plain = s.create_agent(KEY, "no numbers").await;
    let r =
        s.post("/agent", KEY, json!({"name": "numbered", "telephonyProductId": ["60d0fe4f5311236168a109cb"]})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid product id"), "not a rented number");
    let (own_product, product) = (rent_number(&s, KEY, "US").await, rent_number(&s, KEY, "US").await);
    let r = s.post("/agent", KEY, json!({"name": "numbered", "telephonyProductId": [own_product]})).await;
    let numbered = r.body["data"].as_str().expect("id").to_string();
    let own = s.get(&format!("/agent/{numbered}"), KEY).await.body["data"]["phoneNumber"][0].clone();
    assert!(own.as_str().is_some_and(|n| n.starts_with('+')), "AgentDTO.phoneNumber (R029): {own}");
    let r = s.post("/agent", KEY, json!({"name": "product", "telephonyProductId": [product]})).await;
    let product_number = s.get(&format!("/agent/{}", r.body["data"].as_str().expect("id")), KEY).await.body["data"]
        ["phoneNumber"][0]
        .clone();

    let call = |agent: String, extra: Value| {
        let s = &s;
        async move {
            let mut body = json!({"agentId": agent, "phoneNumber": callee});
            body.as_object_mut().expect("object").extend(extra.as_object().cloned().unwrap_or_default());
            let r = s.post("/conversation/outbound", KEY, body).await;
            let id = r.body["data"]["conversationId"].as_str().expect("call id").to_string();
            s.get(&format!("/conversation/{id}"), KEY).await.body["data"].clone()
        }
    };
    let default = call(plain.clone(), json!({})).await;
    let agents = call(numbered.clone(), json!({})).await;
    let chosen = call(numbered, json!({"fromProductId": product})).await;
    let spoofed = call(plain.clone(), json!({"variables": {"agent_number": callee, "user_number": "+1999"}})).await;
    for (d, from) in [
        (&default, json!("+14155550100")),
        (&agents, own),
        (&chosen, product_number),
        (&spoofed, json!("+14155550100")),
    ] {
        assert_eq!((&d["from"], &d["to"]), (&from, &json!(callee)));
        assert_eq!((&d["variables"]["agent_number"], &d["variables"]["user_number"]), (&from, &json!(callee)));
    }
    // Never the callee, even when the callee is the managed default itself.
    let r = s.post("/conversation/outbound", KEY, json!({"agentId": plain, "phoneNumber": "+14155550100"})).await;
    let d = s.get(&format!("/conversation/{}", r.body["data"]["conversationId"].as_str().expect("id")), KEY).await;
    assert_ne!(d.body["data"]["from"], d.body["data"]["to"]);
}

#[tokio::test]
async fn live_k1_webhooks_and_the_call_log_agree_on_the_caller_id() {
    let s = TestServer::start().await;
    let rx = receiver(200).await;
    let agent = s.create_agent(KEY, "k1 hooks").await;
    let hook = create_webhook(&s, KEY, &format!("{}/hook", rx.uri()), &agent, &ALL_EVENTS).await;
    let r = s.post("/conversation/outbound", KEY, json!({"agentId": agent, "phoneNumber": "+14155550123"})).await;
    let call = r.body["data"]["conversationId"].as_str().expect("id").to_string();
    let mut bodies = Vec::new();
    for (secs, event) in [(3.0, "pre-conversation"), (20.0, "post-conversation")] {
        s.advance(secs).await;
        let r = wait(&s, &format!("callId={call}&webhookId={hook}&event={event}")).await;
        assert_eq!(r.status, StatusCode::OK, "{event}: {}", r.text);
        bodies.push(serde_json::from_str::<Value>(r.body["request"]["body"].as_str().expect("body")).expect("JSON"));
    }
    let log = s.get(&format!("/conversation/{call}"), KEY).await.body["data"].clone();
    let (from, to) = (log["from"].clone(), log["to"].clone());
    assert_eq!((from.clone(), to.clone()), (json!("+14155550100"), json!("+14155550123")));
    assert_eq!((&bodies[0]["metadata"]["fromPhone"], &bodies[0]["metadata"]["toPhone"]), (&from, &to));
    let cd = &bodies[1]["metadata"]["callData"];
    assert_eq!((&cd["fromNumber"], &cd["toNumber"]), (&from, &to));
    let vars = &bodies[1]["metadata"]["variables"];
    assert_eq!((&vars["agent_number"], &vars["user_number"]), (&from, &to));
    // The SSE stream replays the events of the log it carries (R129).
    let frames = crate::call_helpers::subscribe(&s, KEY, &call).await.rest().await;
    let logged: Vec<String> = crate::call_helpers::streamed(&log).iter().map(Value::to_string).collect();
    assert_eq!(frames.len(), logged.len() + 1, "every logged event, then sse_close");
    assert!(frames
        .iter()
        .zip(&logged)
        .all(|(f, l)| serde_json::from_str::<Value>(f).ok() == serde_json::from_str(l).ok()));
}
