//! Agents (BEHAVIOR §B) and the draft-config fields of changelog
//! 2026-05-05-agent-config-fields (R023, R052), plus post-call analytics
//! config (§K).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestServer;

const KEY: &str = "sk_agents";

/// The 15 fields of the changelog, each with a non-default value.
fn fifteen_fields() -> Value {
    json!({
        "firstMessage": "Welcome to the round trip.",
        "muteUserUntilFirstBotResponse": true,
        "allowInterruptions": false,
        "waitForUserToSpeakFirst": true,
        "interruptionBackoffTimer": 3.5,
        "smartTurnConfig": {"isEnabled": true, "waitTimeInSecs": 2},
        "voiceDetectionConfig": {"confidence": 0.9, "minVolume": 0.1, "triggerTimeInSecs": 1.5, "releaseTimeInSecs": 2.5},
        "voiceMailDetectionConfig": {"enabled": true, "endText": "Please call us back."},
        "denoisingConfig": {"isEnabled": true},
        // Redaction is on by default (LIVE C1): off is the non-default value.
        "redactionConfig": {"isEnabled": false},
        "pronunciationDicts": [{"word": "Atoms", "pronunciation": "AT-umz"}],
        "llmIdleTimeoutConfig": {"chatTimeoutTimeInSecs": 120, "webcallTimeoutTimeInSecs": 30, "telephonyTimeoutTimeInSecs": 45, "maxRetries": 3},
        "sessionTimeoutConfig": {"timeoutTimeInSecs": 3600},
        "timezone": {"label": "America/New_York", "offset": -300},
        "synthesizer": {"sampleRate": 24000}
    })
}

/// One out-of-range (or wrongly typed) value per field, with the path the
/// error must name.
fn out_of_range() -> Vec<(Value, &'static str)> {
    vec![
        (json!({"firstMessage": "x".repeat(501)}), "firstMessage"),
        (json!({"muteUserUntilFirstBotResponse": "yes"}), "muteUserUntilFirstBotResponse"),
        (json!({"allowInterruptions": 1}), "allowInterruptions"),
        (json!({"waitForUserToSpeakFirst": null}), "waitForUserToSpeakFirst"),
        (json!({"interruptionBackoffTimer": 10.5}), "interruptionBackoffTimer"),
        (json!({"smartTurnConfig": {"waitTimeInSecs": 11}}), "smartTurnConfig.waitTimeInSecs"),
        (json!({"voiceDetectionConfig": {"confidence": 1.2}}), "voiceDetectionConfig.confidence"),
        (json!({"voiceMailDetectionConfig": {"endText": "y".repeat(201)}}), "voiceMailDetectionConfig.endText"),
        (json!({"denoisingConfig": {"isEnabled": "on"}}), "denoisingConfig.isEnabled"),
        (json!({"redactionConfig": {"isEnabled": 0}}), "redactionConfig.isEnabled"),
        (json!({"pronunciationDicts": [{"word": "a"}]}), "pronunciationDicts.0.pronunciation"),
        (json!({"llmIdleTimeoutConfig": {"chatTimeoutTimeInSecs": 301}}), "llmIdleTimeoutConfig.chatTimeoutTimeInSecs"),
        (json!({"sessionTimeoutConfig": {"timeoutTimeInSecs": 3601}}), "sessionTimeoutConfig.timeoutTimeInSecs"),
        (json!({"timezone": {"offset": "UTC"}}), "timezone.offset"),
        (json!({"synthesizer": {"sampleRate": 22050}}), "synthesizer.sampleRate"),
    ]
}

#[tokio::test]
async fn all_15_changelog_fields_round_trip_and_show_in_the_draft_diff() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "fields").await;
    let draft = s.fork_draft(KEY, &agent).await;
    let r = s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, fifteen_fields()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let diff = s.get(&format!("/agent/{agent}/drafts/{draft}/diff"), KEY).await;
    assert_eq!(diff.body["data"]["hasChanges"], true);
    let changes: Vec<(String, Value)> = diff.body["data"]["sections"]
        .as_object()
        .expect("sections")
        .values()
        .flat_map(|s| s["changes"].as_array().cloned().unwrap_or_default())
        .map(|c| (c["path"].as_str().unwrap_or("").to_string(), c["newValue"].clone()))
        .collect();
    let expect = fifteen_fields();
    for (field, value) in expect.as_object().expect("object") {
        let reported: Vec<&(String, Value)> =
            changes.iter().filter(|(p, _)| p == field || p.starts_with(&format!("{field}."))).collect();
        assert!(!reported.is_empty(), "{field} not in the diff: {changes:?}");
        for (path, new) in reported {
            let leaf = path.strip_prefix(field.as_str()).unwrap_or("").trim_start_matches('.');
            let want = if leaf.is_empty() {
                value.clone()
            } else {
                value.pointer(&format!("/{}", leaf.replace('.', "/"))).cloned().unwrap_or(Value::Null)
            };
            assert_eq!(new, &want, "{path}");
        }
    }
    // And the values read back through the draft preview.
    let got = s.get(&format!("/agent/{agent}?draftId={draft}"), KEY).await;
    let resolved = &got.body["data"]["_resolvedConfig"];
    assert_eq!(resolved["timezone"], json!({"label": "America/New_York", "offset": -300}));
    assert_eq!(resolved["synthesizer"]["sampleRate"], 24000);
    assert_eq!(resolved["synthesizer"]["speed"], 1.2, "objects merge key by key");
}

#[tokio::test]
async fn each_changelog_field_out_of_range_gives_400_naming_it_and_changes_nothing() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "bounds").await;
    let draft = s.fork_draft(KEY, &agent).await;
    let path = format!("/agent/{agent}/drafts/{draft}/config");
    let before = s.get(&format!("/agent/{agent}/drafts/{draft}"), KEY).await.body;
    for (body, field) in out_of_range() {
        let r = s.patch(&path, KEY, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(r.error().starts_with(&format!("{field}:")), "{field}: {}", r.error());
    }
    // A bulk request with one bad field is rejected whole.
    let mut bulk = fifteen_fields();
    bulk["interruptionBackoffTimer"] = json!(-1);
    assert_eq!(s.patch(&path, KEY, bulk).await.status, StatusCode::BAD_REQUEST);
    let after = s.get(&format!("/agent/{agent}/drafts/{draft}"), KEY).await.body;
    assert_eq!(before, after, "rejected patches must not touch the draft");
    let diff = s.get(&format!("/agent/{agent}/drafts/{draft}/diff"), KEY).await;
    assert_eq!(diff.body["data"]["hasChanges"], false);
}

#[tokio::test]
async fn draft_config_with_only_name_has_no_recognized_fields() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "noname").await;
    let draft = s.fork_draft(KEY, &agent).await;
    let r = s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, json!({"name": "renamed"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "No recognized config fields");
}

#[tokio::test]
async fn post_call_analytics_config_is_validated_and_round_trips_exactly() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "pca").await;
    let draft = s.fork_draft(KEY, &agent).await;
    let path = format!("/agent/{agent}/drafts/{draft}/config");
    let metric =
        |id: &str, ty: &str| json!({"identifier": id, "dispositionMetricPrompt": "q?", "dispositionMetricType": ty});
    let bad = [
        (json!({"dispositionMetrics": [metric("Bad-Id", "STRING")]}), "identifier"),
        (json!({"dispositionMetrics": [metric("ok", "FLOAT")]}), "dispositionMetricType"),
        (json!({"dispositionMetrics": [metric("ok", "ENUM")]}), "choices"),
        (
            json!({"dispositionMetrics": [{"identifier": "ok", "dispositionMetricPrompt": "q", "dispositionMetricType": "STRING", "choices": ["a"]}]}),
            "choices",
        ),
    ];
    for (cfg, field) in bad {
        let r = s.patch(&path, KEY, json!({"postCallAnalyticsConfig": cfg})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{cfg}");
        assert!(r.error().contains(field), "{}", r.error());
    }
    let config = json!({
        "dispositionMetrics": [
            metric("call_resolved", "BOOLEAN"),
            {"identifier": "outcome", "dispositionMetricPrompt": "Outcome?", "dispositionMetricType": "ENUM", "choices": ["resolved", "escalated"]},
            metric("callback_at", "DATETIME"), metric("score", "INTEGER"), metric("reason", "STRING")
        ],
        "successMetrics": [],
        "summaryPrompt": "",
        "useInternalAnalyticsModel": false,
        "useReasoningModel": true
    });
    assert_eq!(s.patch(&path, KEY, json!({"postCallAnalyticsConfig": config})).await.status, StatusCode::OK);
    let version = s.publish(KEY, &agent, &draft).await;
    s.advance(6.0).await;
    s.patch(&format!("/agent/{agent}/versions/{version}/activate"), KEY, json!({})).await;
    let got = s.get(&format!("/agent/{agent}"), KEY).await;
    assert_eq!(got.body["data"]["_resolvedConfig"]["postCallAnalyticsConfig"], config);
}

#[tokio::test]
async fn list_filters_sorting_pagination_and_archived() {
    let s = TestServer::start().await;
    for name in ["charlie", "alpha", "bravo"] {
        s.create_agent(KEY, name).await;
        s.advance(1.0).await;
    }
    let r = s.post("/agent", KEY, json!({"name": "graph", "workflowType": "workflow_graph"})).await;
    let graph = r.body["data"].as_str().expect("id").to_string();
    let names = |v: &Value| -> Vec<String> {
        v["data"]["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .map(|a| a["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let r = s.get("/agent", KEY).await;
    assert_eq!(names(&r.body), ["graph", "bravo", "alpha", "charlie"], "createdAt desc by default");
    assert!(r.body["data"]["agents"][0].get("_resolvedConfig").is_none(), "no _resolvedConfig in lists (R025)");
    let r = s.get("/agent?sortField=name&sortOrder=asc&page=2&offset=2", KEY).await;
    assert_eq!(names(&r.body), ["charlie", "graph"]);
    assert_eq!(r.body["data"]["totalCount"], 4, "LIVE list table: totalCount, not total");
    assert_eq!((r.body["data"]["totalPages"].clone(), r.body["data"]["hasMore"].clone()), (json!(2), json!(false)));
    let r = s.get("/agent?type=workflow_graph", KEY).await;
    assert_eq!(names(&r.body), ["graph"]);
    let r = s.get("/agent?search=ALP", KEY).await;
    assert_eq!(names(&r.body), ["alpha"]);
    assert_eq!(s.delete(&format!("/agent/{graph}/archive"), KEY).await.status, StatusCode::OK);
    assert_eq!(names(&s.get("/agent?archived=true", KEY).await.body), ["graph"]);
    assert_eq!(s.get("/agent", KEY).await.body["data"]["totalCount"], 3);
    assert_eq!(s.get("/agent?sortField=color", KEY).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(s.get("/agent?type=chat", KEY).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn archive_and_unarchive_follow_r034_and_r035() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "arch").await;
    let path = format!("/agent/{agent}/archive");
    assert_eq!(s.delete(&path, KEY).await.body["data"]["message"], "Agent archived");
    let r = s.delete(&path, KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::CONFLICT, "Agent is already archived"));
    let got = s.get(&format!("/agent/{agent}"), KEY).await;
    assert_eq!(got.body["data"]["archived"], true);
    assert!(got.body["data"]["archivedAt"].is_string());
    assert_eq!(s.delete(&format!("{path}?on=false"), KEY).await.body["data"]["message"], "Agent unarchived");
    let r = s.patch(&format!("{path}?on=false"), KEY, json!({})).await;
    assert_eq!((r.status, r.error()), (StatusCode::CONFLICT, "Agent is already active"));
    let r = s.delete("/agent/0123456789abcdef01234567/archive", KEY).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metadata_patch_accepts_metadata_and_rejects_config_fields() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "meta").await;
    let path = format!("/agent/{agent}");
    let r = s.patch(&path, KEY, json!({"name": "renamed", "telephonyProductId": ["60d0fe4f5311236168a109cb"]})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid product id"), "R104's message");
    assert_eq!(s.get(&path, KEY).await.body["data"]["name"], "meta", "an unknown product changes nothing");
    let number = crate::account::rent_number(&s, KEY, "US").await;
    let r = s.patch(&path, KEY, json!({"name": "renamed", "description": "d", "allowInboundCall": false, "visibleToEveryone": true, "telephonyProductId": [number]})).await;
    assert_eq!(r.body, json!({"status": true, "data": agent}));
    let got = s.get(&path, KEY).await.body;
    assert_eq!(got["data"]["telephonyProductId"], json!([number]), "read back from the account book");
    let listed = s.get("/product/phone-numbers", KEY).await.body;
    let item = &listed["data"][0];
    assert_eq!((&item["_id"], &item["agentId"]), (&json!(number), &json!(agent)), "the number's agentId agrees");
    let e164 = format!("+{}", item["attributes"]["phoneNumber"].as_str().expect("number").trim_start_matches('+'));
    assert_eq!(got["data"]["phoneNumber"], json!([e164]), "R029: the attached number");
    let r = s.patch(&path, KEY, json!({"name": "again", "firstMessage": "sneaky"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "Agent has versioning enabled. Config changes must be made through drafts.");
    let got = s.get(&path, KEY).await.body;
    assert_eq!(got["data"]["name"], "renamed", "a rejected PATCH changes nothing");
    assert_eq!(got["data"]["allowInboundCall"], false);
    assert_eq!(got["data"]["visibleToEveryone"], true);
    assert_eq!(got["data"]["_resolvedConfig"]["firstMessage"], "");
    let r = s.patch("/agent/0123456789abcdef01234567", KEY, json!({"name": "x"})).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Agent not found"));
}

#[tokio::test]
async fn get_agent_resolves_from_draft_or_version_and_reports_the_source() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "src").await;
    let v1 = s.active_version(KEY, &agent).await;
    let got = s.get(&format!("/agent/{agent}"), KEY).await;
    assert!(got.body["data"].get("_configSource").is_none());
    assert!(got.body["data"]["_versionedWorkflow"].is_object());
    assert_eq!(got.body["data"]["_resolvedConfig"]["modelName"], "electron");
    let got = s.get(&format!("/agent/{agent}?versionId={v1}"), KEY).await;
    assert_eq!(got.body["data"]["_configSource"], "version");
    assert_eq!(s.get(&format!("/agent/{agent}?draftId=nope"), KEY).await.status, StatusCode::BAD_REQUEST);
    let r = s.get("/agent/0123456789abcdef01234567", KEY).await;
    assert_eq!(r.body, json!({"status": false, "errors": ["No agent found"]}));
    let r = s.get("/agent/not-an-id", KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid agent id"));
}

#[tokio::test]
async fn create_applies_defaults_and_gates_models() {
    let s = TestServer::start().await;
    let r = s.post("/agent", KEY, json!({"name": "gated", "slmModel": "gpt-5.2"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .post("/agent", KEY, json!({"name": "rt", "slmModel": "gpt-realtime", "workflowType": "workflow_graph"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s
        .post(
            "/agent",
            KEY,
            json!({"name": "lang", "language": {"default": "hi", "supported": ["en"], "switching": {}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r =
        s.post("/agent", KEY, json!({"name": "ta", "language": {"supported": ["ta", "en"], "switching": {}}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.post("/agent", KEY, json!({"name": "ok", "firstMessage": "hi", "backgroundSound": "cafe"})).await;
    let id = r.body["data"].as_str().expect("id").to_string();
    let got = s.get(&format!("/agent/{id}"), KEY).await.body;
    let d = &got["data"];
    assert_eq!(d["_resolvedConfig"]["firstMessage"], "hi", "create fields become version 1 (R024)");
    assert_eq!(d["backgroundSound"], "", "the server default overrides backgroundSound (R024)");
    assert_eq!(
        d["synthesizer"]["voiceConfig"],
        json!({"model": "waves_lightning_v3_1", "voiceId": "nyah", "gender": "female"})
    );
    assert_eq!(d["workflowType"], "single_prompt");
    assert_eq!(d["enableStyleGuide"], true);
    assert_eq!(d["callDispositionConfig"], "");
    assert!(d.get("isLocked").is_none(), "isLocked was retired (R029)");
}

/// R032: `north_indic` needs the `pulse` transcriber, on create and on a
/// draft edit (the spec's example of a cross-field violation); a refused
/// edit changes nothing.
#[tokio::test]
async fn r032_north_indic_without_the_pulse_transcriber_is_a_400_cross_field_violation() {
    let s = TestServer::start().await;
    let lang = json!({"default": "north_indic", "supported": ["north_indic"], "switching": {}});
    let r = s.post("/agent", KEY, json!({"name": "ni", "language": lang, "transcriberType": "deepgram"})).await;
    let msg = "transcriberType: the north_indic language requires transcriberType: pulse";
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, msg), "{}", r.text);
    let r = s.post("/agent", KEY, json!({"name": "ni", "language": lang})).await;
    assert_eq!(r.status, StatusCode::CREATED, "pulse is the default transcriber: {}", r.text);
    let agent = r.body["data"].as_str().expect("id").to_string();
    let active = s.active_version(KEY, &agent).await;
    let r = s.post(&format!("/agent/{agent}/drafts"), KEY, json!({"sourceVersionId": active})).await;
    let draft = r.body["data"]["draftId"].as_str().expect("draftId").to_string();
    let path = format!("/agent/{agent}/drafts/{draft}/config");
    let r = s.patch(&path, KEY, json!({"transcriberType": "deepgram"})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, msg), "{}", r.text);
    let r = s
        .patch(&path, KEY, json!({"transcriberType": "deepgram", "language": {"default": "en", "supported": ["en"]}}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "without north_indic any transcriber goes: {}", r.text);
}

#[tokio::test]
async fn templates_list_filter_and_create() {
    let s = TestServer::start().await;
    let all = s.get("/agent/template", KEY).await;
    let n = all.body["data"].as_array().map(Vec::len).unwrap_or(0);
    let us = s.get("/agent/template?region=us", KEY).await;
    let india = s.get("/agent/template?region=in", KEY).await;
    let count = |r: &crate::helpers::Reply| r.body["data"].as_array().map(Vec::len).unwrap_or(0);
    assert!(count(&us) > 0 && count(&india) > 0);
    assert_eq!(count(&us) + count(&india), n);
    let first = &india.body["data"][0];
    assert_ne!(first["_id"], first["id"], "_id and slug id are distinct (R040)");
    assert_eq!(s.get("/agent/template?region=eu", KEY).await.status, StatusCode::BAD_REQUEST);
    let r = s.post("/agent/from-template", KEY, json!({"agentName": "from tpl", "templateId": first["id"]})).await;
    assert_eq!(r.status, StatusCode::OK);
    let id = r.body["data"].as_str().expect("id").to_string();
    let got = s.get(&format!("/agent/{id}"), KEY).await;
    assert_eq!(got.body["data"]["_resolvedConfig"]["prompt"], first["singlePromptConfig"]["prompt"]);
    assert_eq!(s.post("/agent/from-template", KEY, json!({"agentName": "x"})).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.post("/agent/from-template", KEY, json!({"agentName": "x", "templateId": "nope"})).await.status,
        StatusCode::BAD_REQUEST
    );
    let m = s.get("/disposition-metric-templates", KEY).await;
    assert_eq!(m.body["success"], true);
}

#[tokio::test]
async fn duplicate_copies_the_active_version_into_the_callers_org() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "dup").await;
    let org =
        s.get(&format!("/agent/{agent}"), KEY).await.body["data"]["organization"].as_str().expect("org").to_string();
    let r = s.post(&format!("/agent/{agent}/duplicate"), KEY, json!({"targetOrganizationId": org})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let copy = r.body["data"]["_id"].as_str().expect("_id").to_string();
    assert_ne!(copy, agent);
    assert!(s.get(&format!("/agent/{copy}"), KEY).await.body["data"]["activeVersionId"].is_string());
    let r = s
        .post(&format!("/agent/{agent}/duplicate"), KEY, json!({"targetOrganizationId": "0123456789abcdef01234567"}))
        .await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Target organization not found"), "R038");
    let other = s.create_agent("sk_dup_other", "theirs").await;
    let theirs = s.get(&format!("/agent/{other}"), "sk_dup_other").await.body["data"]["organization"].clone();
    let r = s.post(&format!("/agent/{agent}/duplicate"), KEY, json!({"targetOrganizationId": theirs})).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::FORBIDDEN, "You are not a member of the target organization"),
        "R038: another key's organization"
    );
    s.delete(&format!("/agent/{agent}/archive"), KEY).await;
    let r = s.post(&format!("/agent/{agent}/duplicate"), KEY, json!({"targetOrganizationId": org})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Cannot duplicate an archived agent"));
}

#[tokio::test]
async fn legacy_workflow_routes_follow_the_deprecation_notes() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "legacy").await;
    let r = s.get(&format!("/agent/{agent}/workflow?versionId=ignored"), KEY).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["prompt"], "");
    let wf = s.get(&format!("/agent/{agent}"), KEY).await.body["data"]["workflowId"]
        .as_str()
        .expect("workflowId")
        .to_string();
    assert_eq!(
        s.patch(&format!("/workflow/{wf}"), KEY, json!({"type": "single_prompt"})).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(s.get(&format!("/agent/{agent}/resolved-config"), KEY).await.status, StatusCode::NOT_FOUND);
    let logs = s.get(&format!("/agent/{agent}/call-logs"), KEY).await;
    assert_eq!(logs.body["success"], true);
}

#[tokio::test]
async fn model_gating_follows_the_organizations_access_r022() {
    let s = TestServer::start().await;
    let body = json!({"name": "gated", "slmModel": "electron-kogta"});
    assert_eq!(s.post("/agent", KEY, body.clone()).await.status, StatusCode::FORBIDDEN);
    let r = s.admin(reqwest::Method::PUT, &format!("/access?apiKey={KEY}"), Some(json!({"gatedModels": true}))).await;
    assert_eq!(r.body["gatedModels"], true, "{}", r.text);
    assert_eq!(s.post("/agent", KEY, body).await.status, StatusCode::CREATED);
    let r = s
        .admin(reqwest::Method::PUT, &format!("/access?apiKey={KEY}"), Some(json!({"conversationalAgents": false})))
        .await;
    assert_eq!(r.body["conversationalAgents"], false);
    let r = s.post("/agent", KEY, json!({"name": "graph", "workflowType": "workflow_graph"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.admin(reqwest::Method::GET, "/access", None).await.status, StatusCode::BAD_REQUEST);
    let other = s.post("/agent", "sk_other", json!({"name": "gated", "slmModel": "gpt-5.2"})).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "access is per organization");
}

/// R065, R097, R104: once the organization lacks conversational-agents
/// access, a `workflow_graph` agent's v1 version routes, its draft discard,
/// its outbound call and its test calls answer 403; a single-prompt agent's
/// do not.
#[tokio::test]
async fn a_workflow_graph_agent_without_conversational_access_gets_403_on_versions_calls_and_test_calls() {
    let s = TestServer::start().await;
    let graph = crate::call_helpers::workflow_agent(&s, KEY, "graph").await;
    let plain = s.create_agent(KEY, "plain").await;
    let version = s.active_version(KEY, &graph).await;
    let r = s.post(&format!("/agent/{graph}/drafts"), KEY, json!({"sourceVersionId": version})).await;
    let draft = r.body["data"]["draftId"].as_str().expect("draftId").to_string();
    let r = s
        .admin(reqwest::Method::PUT, &format!("/access?apiKey={KEY}"), Some(json!({"conversationalAgents": false})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let forbidden = "Your organization does not have access to conversational agents";
    let v = format!("/agent/{graph}/versions/{version}");
    let answers = [
        s.get(&format!("/agent/{graph}/versions"), KEY).await,
        s.get(&format!("/agent/{graph}/versions/diff?versionA={version}&versionB={version}"), KEY).await,
        s.get(&v, KEY).await,
        s.patch(&v, KEY, json!({"label": "x"})).await,
        s.patch(&format!("{v}/activate"), KEY, json!({})).await,
        s.post(&format!("{v}/test-call"), KEY, json!({"mode": "webcall"})).await,
        s.delete(&format!("/agent/{graph}/drafts/{draft}"), KEY).await,
        s.post("/conversation/outbound", KEY, json!({"agentId": graph, "phoneNumber": "+14155550123"})).await,
    ];
    for r in answers {
        assert_eq!((r.status, r.error()), (StatusCode::FORBIDDEN, forbidden), "{}", r.text);
    }
    let r = s.get(&format!("/agent/{plain}/versions"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "a single-prompt agent is not gated: {}", r.text);
    let r = s.post("/conversation/outbound", KEY, json!({"agentId": plain, "phoneNumber": "+14155550123"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let main =
        s.get(&format!("/agent/{graph}/branches"), KEY).await.body["data"]["branches"][0]["branch"]["_id"].clone();
    let r = s
        .post(
            &format!("/agent/{graph}/branches/{}/test-call", main.as_str().expect("branch")),
            KEY,
            json!({"mode": "webcall"}),
        )
        .await;
    assert_eq!((r.status, r.error()), (StatusCode::FORBIDDEN, forbidden), "R097: {}", r.text);
}

/// AR1–AR3 (`domain::archive_budget`): past `--max-archived-agents`, an
/// archive forgets the archived agents created first, down to 15/16 of the
/// bound, with their webhook subscriptions; the agent just archived, one
/// holding a concurrency reservation, and the later ones stay.
#[tokio::test]
async fn past_the_archived_agent_bound_the_oldest_archived_agents_are_forgotten_ar1_ar3() {
    let config = atoms_mock::Config { max_archived_agents: 16, ..atoms_mock::Config::for_tests() };
    let s = TestServer::with_config(config).await;
    let key = "sk_archive_bound";
    let mut agents = Vec::new();
    for i in 0..17 {
        agents.push(s.create_agent(key, &format!("a{i}")).await);
    }
    let (reserved, first) = (&agents[0], &agents[1]);
    let item = json!({"agentId": reserved, "webcall": 0, "outbound": 1, "inbound": 0, "chat": 0});
    let r = s
        .call(reqwest::Method::PUT, "/concurrency/reservations", Some(key), Some(json!({"reservations": [item]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let events = json!([{"agentId": first, "eventType": "pre-conversation"}]);
    let r = s.post("/webhook", key, json!({"endpoint": "http://127.0.0.1:9/ar3", "events": events})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let webhook = r.body["data"].as_str().expect("webhook id").to_string();
    for (i, agent) in agents.iter().enumerate() {
        let r = s.delete(&format!("/agent/{agent}/archive"), key).await;
        assert_eq!(r.status, StatusCode::OK, "archive {i}: {}", r.text);
        if i < 16 {
            assert_eq!(s.get(&format!("/agent/{first}"), key).await.status, StatusCode::OK, "AR1: within the bound");
        }
    }
    let never = "0123456789abcdef01234567";
    let unknown = s.get(&format!("/agent/{never}"), key).await;
    let unknown_unarchive = s.delete(&format!("/agent/{never}/archive?on=false"), key).await;
    for gone in &agents[1..3] {
        let r = s.get(&format!("/agent/{gone}"), key).await;
        assert_eq!((r.status, &r.body), (unknown.status, &unknown.body), "AR3: as an id never created");
        let r = s.delete(&format!("/agent/{gone}/archive?on=false"), key).await;
        assert_eq!(
            (r.status, &r.body),
            (unknown_unarchive.status, &unknown_unarchive.body),
            "AR3: nothing to unarchive"
        );
    }
    assert_eq!(unknown_unarchive.status, StatusCode::NOT_FOUND, "{}", unknown_unarchive.text);
    for kept in agents.iter().take(1).chain(&agents[3..]) {
        let r = s.get(&format!("/agent/{kept}"), key).await;
        assert_eq!((r.status, &r.body["data"]["archived"]), (StatusCode::OK, &json!(true)), "AR2: {}", r.text);
    }
    let listed = s.get("/agent?archived=true&limit=100", key).await;
    assert_eq!(listed.body["data"]["totalCount"], 15, "AR1: down to 16 - 16/16: {}", listed.text);
    let r = s.get(&format!("/webhook?webhookId={webhook}"), key).await;
    assert_eq!(r.body["data"]["subscriptions"], json!([]), "AR3: the subscription went with its agent: {}", r.text);
}
