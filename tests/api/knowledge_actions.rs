//! Knowledge bases, call actions, prompt scoring, the widget and the
//! WebEngage integration, black-box on the virtual clock: a scraped page
//! is indexed on the clock and a call answers from it; a post-call action
//! fires once per call; a prompt's score is stable and orders prompts.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::{outbound, run_to_end, transcript};
use crate::helpers::TestServer;

const KEY: &str = "sk_knowledge";

async fn create_kb(s: &TestServer, name: &str) -> String {
    let r = s.post("/knowledgebase", KEY, json!({"name": name})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["data"].as_str().expect("id").to_string()
}

/// The status of the first scraped URL of `kb`.
async fn scrape_status(s: &TestServer, kb: &str) -> String {
    let r = s.get(&format!("/knowledgebase/{kb}/scraped-urls"), KEY).await;
    r.body["data"][0]["status"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn a_scraped_page_is_indexed_on_the_clock_and_a_call_quotes_it() {
    // The built-in `kb-answer` scenario and the embedded `fixtures/web.json` page.
    let s = TestServer::start().await;
    let kb = create_kb(&s, "FAQ").await;
    let r =
        s.post(&format!("/knowledgebase/{kb}/scrape-urls"), KEY, json!({"urls": ["https://acme.example/faq"]})).await;
    assert_eq!((r.status, r.body["data"]["queued"].clone()), (StatusCode::OK, json!(1)), "{}", r.text);
    assert_eq!(scrape_status(&s, &kb).await, "pending");
    let mut seen = Vec::new();
    for _ in 0..120 {
        let st = scrape_status(&s, &kb).await;
        if seen.last() != Some(&st) {
            seen.push(st.clone());
        }
        if st == "indexed" {
            break;
        }
        s.advance(1.0).await;
    }
    assert_eq!(seen.first().map(String::as_str), Some("pending"));
    assert_eq!(seen.last().map(String::as_str), Some("indexed"), "states seen: {seen:?}");

    let agent = s.create_agent(KEY, "Support").await;
    s.release(KEY, &agent, json!({"globalKnowledgeBaseId": kb})).await;
    let call = outbound(&s, KEY, &agent, "+15551230001", Some("kb-answer")).await;
    let d = run_to_end(&s, KEY, &call, 120).await;
    let said: Vec<String> = transcript(&d).into_iter().filter(|(r, _)| r == "agent").map(|(_, t)| t).collect();
    assert_eq!(said.last().map(String::as_str), Some("Refunds are issued within 14 days of a cancellation request."));

    let r = s.delete(&format!("/knowledgebase/{kb}"), KEY).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(
        r.error(),
        "This knowledge base is connected to an agent. Please detach it from the agent before deleting."
    );
}

/// The `processingStatus` of knowledge base `kb`'s first item.
async fn item_status(s: &TestServer, kb: &str) -> String {
    let r = s.get(&format!("/knowledgebase/{kb}/items"), KEY).await;
    r.body["data"][0]["processingStatus"].as_str().unwrap_or("none").to_string()
}

/// Issue 12 acceptance 3: an uploaded PDF goes `pending → processing →
/// completed` only as the clock advances, and a call then answers from its
/// text (built-in `kb-answer` scenario).
#[tokio::test]
async fn an_uploaded_pdf_is_processed_on_the_clock_and_a_call_answers_from_it() {
    let s = TestServer::start().await;
    let kb = create_kb(&s, "Policies").await;
    let boundary = "kbuploadboundary";
    let pdf = "%PDF-1.4\n1 0 obj<<>>stream\nBT (Refunds take five business days to reach your card.) Tj ET\nendstream";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"refunds.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n{pdf}\r\n--{boundary}--\r\n"
    );
    let r = s
        .http
        .post(format!("{}/knowledgebase/{kb}/items/upload-media", s.base()))
        .bearer_auth(KEY)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("upload");
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(item_status(&s, &kb).await, "pending");
    let mut seen = vec!["pending".to_string()];
    for _ in 0..120 {
        s.advance(1.0).await;
        let st = item_status(&s, &kb).await;
        if seen.last() != Some(&st) {
            seen.push(st.clone());
        }
        if st == "completed" || st == "failed" {
            break;
        }
    }
    assert_eq!(seen, ["pending", "processing", "completed"]);

    let agent = s.create_agent(KEY, "Support").await;
    s.release(KEY, &agent, json!({"globalKnowledgeBaseId": kb})).await;
    let call = outbound(&s, KEY, &agent, "+15551230002", Some("kb-answer")).await;
    let d = run_to_end(&s, KEY, &call, 120).await;
    let said: Vec<String> = transcript(&d).into_iter().filter(|(r, _)| r == "agent").map(|(_, t)| t).collect();
    assert_eq!(said.last().map(String::as_str), Some("Refunds take five business days to reach your card."));
}

#[tokio::test]
async fn a_knowledge_base_lists_with_the_live_keys_and_an_unknown_one_is_404() {
    let s = TestServer::start().await;
    let kb = create_kb(&s, "  Docs  ").await;
    let r = s.get("/knowledgebase", KEY).await;
    let item = &r.body["data"][0];
    let mut keys: Vec<&str> = item.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["__v", "_id", "createdBy", "description", "name", "organization"]);
    assert_eq!((item["name"].as_str(), item["description"].as_str()), (Some("Docs"), Some("")));
    assert_eq!(s.get("/knowledgebase/0123456789abcdef01234567", KEY).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get("/knowledgebase/nope", KEY).await.error(), "Invalid knowledge base id");
    let r = s.post("/knowledgebase", KEY, json!({})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "name: Required"));
    assert_eq!(s.delete(&format!("/knowledgebase/{kb}"), KEY).await.status, StatusCode::OK);
    assert_eq!(s.get("/knowledgebase", KEY).await.body["data"], json!([]));
}

#[tokio::test]
async fn a_post_call_action_fires_once_per_call_of_its_agent() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "Notifier").await;
    let body = json!({"agentId": agent, "category": "post-call", "provider": "hubspot",
        "config": {"conditions": [], "body": "{\"call\": \"{{callId}}\"}"}});
    let r = s.post("/call-actions", KEY, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["success"], true);
    let action = r.body["data"]["_id"].as_str().expect("_id").to_string();
    let trigger = json!({"agentId": agent, "category": "trigger", "provider": "hubspot", "config": {}});
    let r = s.post("/call-actions", KEY, trigger).await;
    assert_eq!(r.error(), "config.phoneNumberFieldName is required for trigger actions");

    let mut calls = Vec::new();
    for phone in ["+15551230002", "+15551230003"] {
        let call = outbound(&s, KEY, &agent, phone, None).await;
        let d = run_to_end(&s, KEY, &call, 120).await;
        s.until("the post-call action ran", || async {
            !crate::call_helpers::detail(&s, KEY, &call).await["callActions"].is_null()
        })
        .await;
        let d2 = crate::call_helpers::detail(&s, KEY, &call).await;
        let runs = d2["callActions"].as_array().expect("callActions").clone();
        assert_eq!(runs.len(), 1, "{d}");
        assert_eq!(
            (runs[0]["actionId"].as_str(), runs[0]["callId"].as_str()),
            (Some(action.as_str()), Some(call.as_str()))
        );
        assert_eq!(runs[0]["payload"], format!("{{\"call\": \"{call}\"}}"));
        calls.push(call);
    }
    let r = s.admin(Method::GET, &format!("/call-actions/runs?apiKey={KEY}&actionId={action}"), None).await;
    let ran: Vec<&str> = r.body["runs"].as_array().expect("runs").iter().filter_map(|x| x["callId"].as_str()).collect();
    assert_eq!(ran, calls.iter().map(String::as_str).collect::<Vec<_>>());
    let r = s.get(&format!("/call-actions?agentId={agent}"), KEY).await;
    assert_eq!(r.body["data"]["totalCount"], 1, "{}", r.text);
    let r = s.delete(&format!("/call-actions/{action}"), KEY).await;
    assert_eq!(r.body["data"]["message"], "Call action deleted successfully");
    assert_eq!(s.get(&format!("/call-actions/{action}"), KEY).await.status, StatusCode::NOT_FOUND);
}

const STRUCTURED: &str = "# Role\nYou are Maya, a friendly support agent for Acme Internet.\n\n# Objective\nYour goal is to help callers fix connection problems and book a technician when needed.\n\n# Style\nSpeak in short, warm sentences. Ask one question at a time.\n\n# Rules\n- Never share account passwords.\n- Always confirm the caller's name, {{customer_name}}, before changing anything.\n- If you do not know an answer, say so and offer a technician visit.\n\n# Tools\nUse end_call when the caller is done.\n\n# Steps\n1. Greet the caller.\n2. Ask what is wrong.\n3. Walk through a router restart.\n4. If that fails, book a visit.\n\n# Failure handling\nIf the caller is upset, apologise and escalate to a human.";

async fn scored_version(s: &TestServer, prompt: &str) -> String {
    let agent = s.create_agent(KEY, "Scored").await;
    s.release(KEY, &agent, json!({"singlePromptConfig": {"prompt": prompt}})).await
}

#[tokio::test]
async fn a_prompt_score_is_stable_and_orders_two_prompts() {
    let s = TestServer::start().await;
    let good = scored_version(&s, STRUCTURED).await;
    let poor = scored_version(&s, "help people").await;
    let r = s.post("/prompt-scoring/score", KEY, json!({"versionId": good})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let good_score = r.body["data"]["overall_score"].as_u64().expect("score");
    assert_eq!(r.body["data"]["dimensions"].as_array().map(Vec::len), Some(11));
    let again = s.post("/prompt-scoring/score", KEY, json!({"versionId": good})).await;
    assert_eq!(
        (again.status, again.error()),
        (
            StatusCode::BAD_REQUEST,
            "Prompt has not changed since last scoring — retrieve the existing score via GET agent"
        )
    );
    let r = s.post("/prompt-scoring/score", KEY, json!({"versionId": poor})).await;
    let poor_score = r.body["data"]["overall_score"].as_u64().expect("score");
    assert!(good_score > poor_score, "{good_score} vs {poor_score}");
    let both = s.post("/prompt-scoring/score", KEY, json!({"versionId": good, "draftId": "d"})).await;
    assert_eq!(both.error(), "Provide exactly one of versionId or draftId");
    let r = s.post("/prompt-scoring/score", KEY, json!({"versionId": "0123456789abcdef01234567"})).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Version not found"));

    let agent = s.create_agent(KEY, "Revisions").await;
    let revision = s.release(KEY, &agent, json!({"singlePromptConfig": {"prompt": STRUCTURED}})).await;
    let r = s.post("/prompt-scoring/score", KEY, json!({"versionId": revision})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let branches = s.get(&format!("/agent/{agent}/branches"), KEY).await;
    let branch = branches.body["data"]["branches"][0]["branch"]["_id"].as_str().expect("branch").to_string();
    let r = s.get(&format!("/agent/{agent}/branches/{branch}/revisions?limit=1"), KEY).await;
    let rev = &r.body["data"]["revisions"][0];
    assert_eq!(
        (rev["_id"].as_str(), rev["promptScoreStale"].as_bool()),
        (Some(revision.as_str()), Some(false)),
        "{rev}"
    );
    assert_eq!(
        rev["promptScore"]["overall_score"].as_u64(),
        Some(good_score),
        "the cached score shows on the revision"
    );

    let other = TestServer::start().await;
    let same = scored_version(&other, STRUCTURED).await;
    let r = other.post("/prompt-scoring/score", KEY, json!({"versionId": same})).await;
    assert_eq!(r.body["data"]["overall_score"].as_u64(), Some(good_score), "the same prompt scores the same");
}

/// `(promptScore.overall_score, promptScoreStale)` of a rendered object.
fn cached(o: &Value) -> (Option<u64>, Option<bool>) {
    (o["promptScore"]["overall_score"].as_u64(), o["promptScoreStale"].as_bool())
}

#[tokio::test]
async fn the_cached_prompt_score_shows_on_v1_versions_drafts_and_get_agent() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "Cached").await;
    let version = s.release(KEY, &agent, json!({"singlePromptConfig": {"prompt": STRUCTURED}})).await;
    let r = s.get(&format!("/agent/{agent}"), KEY).await;
    assert_eq!(cached(&r.body["data"]), (None, Some(false)), "null before any score: {}", r.text);
    let r = s.post("/prompt-scoring/score", KEY, json!({"versionId": version})).await;
    let score = r.body["data"]["overall_score"].as_u64();
    assert!(score.is_some(), "{}", r.text);

    let r = s.get(&format!("/agent/{agent}"), KEY).await;
    assert_eq!(cached(&r.body["data"]), (score, Some(false)), "GET /agent shows the active version's score");
    assert!(r.body["data"]["promptScore"]["scoredAt"].is_string(), "{}", r.text);
    let r = s.get(&format!("/agent/{agent}/versions/{version}"), KEY).await;
    assert_eq!(cached(&r.body["data"]["version"]), (score, Some(false)), "{}", r.text);
    let r = s.get(&format!("/agent/{agent}/versions"), KEY).await;
    let listed = r.body["data"]["versions"].as_array().and_then(|l| l.iter().find(|v| v["_id"] == version.as_str()));
    assert_eq!(listed.map(cached), Some((score, Some(false))), "{}", r.text);

    let draft = s.fork_draft(KEY, &agent).await;
    let prompt = json!({"singlePromptConfig": {"prompt": "help people"}});
    assert_eq!(s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, prompt).await.status, StatusCode::OK);
    let r = s.get(&format!("/agent/{agent}/drafts/{draft}"), KEY).await;
    assert_eq!(cached(&r.body["data"]["latest"]), (None, Some(false)), "{}", r.text);
    let r = s.post("/prompt-scoring/score", KEY, json!({"draftId": draft})).await;
    let draft_score = r.body["data"]["overall_score"].as_u64();
    assert!(draft_score < score, "{}", r.text);
    let r = s.get(&format!("/agent/{agent}/drafts/{draft}"), KEY).await;
    assert_eq!(cached(&r.body["data"]["latest"]), (draft_score, Some(false)), "{}", r.text);
    let r = s.get(&format!("/agent/{agent}?draftId={draft}"), KEY).await;
    assert_eq!(cached(&r.body["data"]), (draft_score, Some(false)), "{}", r.text);

    let edit = json!({"singlePromptConfig": {"prompt": "help people politely"}});
    assert_eq!(s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, edit).await.status, StatusCode::OK);
    let r = s.get(&format!("/agent/{agent}?draftId={draft}"), KEY).await;
    assert_eq!(cached(&r.body["data"]), (draft_score, Some(true)), "stale once the prompt changed: {}", r.text);
    let r = s.get(&format!("/agent/{agent}?versionId={version}"), KEY).await;
    assert_eq!(cached(&r.body["data"]), (score, Some(false)), "{}", r.text);
}

/// Presigns an avatar upload for `agent` and PUTs `bytes` to it as
/// `content_type` (the presign signs `image/png`); returns `(cdnUrl, PUT
/// status)`.
async fn upload_avatar(s: &TestServer, agent: &str, bytes: &[u8], content_type: &str) -> (String, StatusCode) {
    let body = json!({"fileName": "me.png", "contentType": "image/png", "fileSize": bytes.len()});
    let r = s.post(&format!("/agent/{agent}/avatar/presigned-url"), KEY, body).await;
    assert_eq!((r.status, r.body["success"].clone()), (StatusCode::OK, json!(true)), "{}", r.text);
    let (put, cdn) = (r.body["data"]["presignedUrl"].as_str(), r.body["data"]["cdnUrl"].as_str());
    let (put, cdn) = (put.expect("presignedUrl").to_string(), cdn.expect("cdnUrl").to_string());
    assert!(put.starts_with(&s.root()) && cdn.starts_with(&s.root()), "served by the mock: {put} {cdn}");
    let client = reqwest::Client::new();
    let res = client.put(&put).header("content-type", content_type).body(bytes.to_vec()).send().await.expect("put");
    (cdn, res.status())
}

/// `GET url` outside the API: `(status, content type, bytes)`.
async fn fetch(url: &str) -> (StatusCode, String, Vec<u8>) {
    let res = reqwest::get(url).await.expect("get");
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (res.status(), ct, res.bytes().await.expect("bytes").to_vec())
}

#[tokio::test]
async fn an_avatar_goes_from_presigned_url_to_put_to_cdn_to_the_widget_config() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "Avatar").await;
    let png = b"\x89PNG\r\n\x1a\nfirst avatar".to_vec();
    let (cdn, put) = upload_avatar(&s, &agent, &png, "image/jpeg").await;
    assert_eq!(put, StatusCode::FORBIDDEN, "the signed Content-Type must match");
    assert_eq!(fetch(&cdn).await.0, StatusCode::NOT_FOUND, "nothing stored by a refused PUT");
    let (cdn, put) = upload_avatar(&s, &agent, &png, "image/png").await;
    assert_eq!(put, StatusCode::OK);
    assert_eq!(fetch(&cdn).await, (StatusCode::OK, "image/png".to_string(), png.clone()));

    let path = format!("/agent/{agent}/widget-config");
    let r = s.patch(&path, KEY, json!({"widgetConfig": {"avatarUrl": cdn}})).await;
    assert_eq!((r.status, r.body["data"]["avatarUrl"].as_str()), (StatusCode::OK, Some(cdn.as_str())), "{}", r.text);
    assert_eq!(s.get(&path, KEY).await.body["data"]["avatarUrl"].as_str(), Some(cdn.as_str()));
    let r = s.patch(&path, KEY, json!({"widgetConfig": {"avatarUrl": "https://elsewhere.example/a.png"}})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "avatarUrl must be a URL on the platform CDN"));
    assert_eq!(s.get(&path, KEY).await.body["data"]["avatarUrl"].as_str(), Some(cdn.as_str()), "kept");

    let (second, put) = upload_avatar(&s, &agent, b"second avatar", "image/png").await;
    assert_eq!(put, StatusCode::OK);
    let r = s.patch(&path, KEY, json!({"widgetConfig": {"avatarUrl": second}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(fetch(&second).await.2, b"second avatar".to_vec());
    assert_eq!(fetch(&cdn).await.0, StatusCode::NOT_FOUND, "the replaced avatar is dropped");
}

#[tokio::test]
async fn the_widget_config_patches_and_webengage_is_stored_per_organization() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "Widget").await;
    let r = s.get(&format!("/agent/{agent}/widget-config"), KEY).await;
    assert_eq!(
        (r.status, r.body["data"]["assistantId"].as_str()),
        (StatusCode::OK, Some(agent.as_str())),
        "{}",
        r.text
    );
    let r = s.patch(&format!("/agent/{agent}/widget-config"), KEY, json!({"widgetConfig": {"borderRadius": 51}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = s.patch(&format!("/agent/{agent}/widget-config"), KEY, json!({"widgetConfig": {"borderRadius": 12}})).await;
    assert_eq!((r.status, r.body["data"]["borderRadius"].clone()), (StatusCode::OK, json!(12)), "{}", r.text);
    assert_eq!(s.get(&format!("/agent/{agent}/widget-config"), KEY).await.body["data"]["borderRadius"], 12);
    assert_eq!(s.get("/agent/nope/widget-config", KEY).await.status, StatusCode::NOT_FOUND);

    let r = s.get("/integration/get-webengage-details", KEY).await;
    assert_eq!(
        r.body,
        json!({"message": "Integration details retrieved successfully", "data": {"integrationSets": []}})
    );
    let sets = json!({"integrationSets": [{"licenseCode": "lc", "environment": "us", "apiKey": "k"}]});
    let r = s.post("/integration/modify-webengage-integration", KEY, sets.clone()).await;
    assert_eq!(r.body["message"], "Integration created successfully", "{}", r.text);
    let r = s.post("/integration/modify-webengage-integration", KEY, sets).await;
    assert_eq!(r.body["message"], "Integration updated successfully");
    let theirs = s.get("/integration/get-webengage-details", "sk_other").await;
    assert_eq!(theirs.body["data"]["integrationSets"], Value::Array(Vec::new()));
}

#[tokio::test]
async fn a_presigned_upload_is_checked_like_s3_and_the_control_api_can_supply_its_text() {
    let s = TestServer::start().await;
    let kb = create_kb(&s, "Uploads").await;
    let bytes = b"not really a pdf".to_vec();
    let presign = json!({"fileName": "guide.pdf", "fileSize": bytes.len(), "contentType": "application/pdf",
        "knowledgeBaseId": kb});
    let r = s.post("/knowledgebase/get-presigned-url", KEY, presign).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (url, key) = (r.body["data"]["url"].as_str().expect("url"), r.body["data"]["key"].as_str().expect("key"));
    assert!(url.starts_with(&s.root()), "{url}");
    let complete = json!({"fileName": "guide.pdf", "contentType": "application/pdf", "knowledgeBaseId": kb,
        "key": key, "fileSize": bytes.len()});
    let early = s.post("/knowledgebase/compelete-file-upload", KEY, complete.clone()).await;
    assert_eq!(early.error(), "File has not been uploaded yet");

    let put = |u: String, ct: &'static str| {
        let (http, body) = (s.http.clone(), bytes.clone());
        async move { http.put(u).header("content-type", ct).body(body).send().await.expect("put") }
    };
    let forged = put(url.replace("X-Amz-Signature=", "X-Amz-Signature=00"), "application/pdf").await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.expect("body").contains("<Code>SignatureDoesNotMatch</Code>"));
    assert_eq!(put(url.to_string(), "text/plain").await.status(), StatusCode::FORBIDDEN, "the type is signed");
    assert_eq!(put(url.to_string(), "application/pdf").await.status(), StatusCode::OK);

    let r = s.post("/knowledgebase/compelete-file-upload", KEY, complete.clone()).await;
    assert_eq!(
        (r.status, r.body["data"]["processingStatus"].as_str()),
        (StatusCode::OK, Some("pending")),
        "{}",
        r.text
    );
    let item = r.body["data"]["_id"].as_str().expect("item").to_string();
    let again = s.post("/knowledgebase/compelete-file-upload", KEY, complete).await;
    assert_eq!(again.error(), "Invalid or expired upload key", "completing consumes the key");
    s.advance(60.0).await;
    let items = s.get(&format!("/knowledgebase/{kb}/items"), KEY).await;
    assert_eq!(items.body["data"][0]["processingStatus"], "failed", "{}", items.text);
    assert_eq!(items.body["data"][0]["metadata"]["error"], "The file is not a valid PDF");

    let path = format!("/knowledgebase/items/{item}/content?apiKey={KEY}");
    let r = s.admin(Method::PUT, &path, Some(json!({"text": "Refunds take five days."}))).await;
    assert_eq!((r.status, r.body["processingStatus"].as_str()), (StatusCode::OK, Some("completed")), "{}", r.text);
}

/// The call a trigger places calls from the agent's attached number, as
/// every outbound call does (LIVE K1).
#[tokio::test]
async fn a_trigger_action_places_a_call_to_the_records_phone_field() {
    let s = TestServer::start().await;
    let product = crate::account::rent_number(&s, KEY, "US").await;
    let r = s.post("/agent", KEY, json!({"name": "Dialler", "telephonyProductId": [product]})).await;
    let agent = r.body["data"].as_str().expect("agent id").to_string();
    let own = s.get(&format!("/agent/{agent}"), KEY).await.body["data"]["phoneNumber"][0].clone();
    let body = json!({"agentId": agent, "category": "trigger", "provider": "hubspot", "object": "contact",
        "action_type": "create", "config": {"phoneNumberFieldName": "phone"}});
    let r = s.post("/call-actions", KEY, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let event = json!({"provider": "hubspot", "object": "contact", "action_type": "create",
        "record": {"phone": "+15551230009", "firstName": "Ada"}});
    let r = s.admin(Method::POST, &format!("/call-actions/events?apiKey={KEY}"), Some(event)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let call = r.body["calls"][0].as_str().expect("a call was placed").to_string();
    let d = run_to_end(&s, KEY, &call, 120).await;
    assert_eq!(d["variables"]["firstName"], "Ada", "{d}");
    assert_eq!(d["callActions"][0]["category"], "trigger", "{d}");
    assert_eq!((&d["from"], &d["to"]), (&own, &json!("+15551230009")), "LIVE K1: the agent's number: {d}");
    let bad = json!({"provider": "hubspot", "object": "contact", "action_type": "create", "record": {"phone": "n/a"}});
    let r = s.admin(Method::POST, &format!("/call-actions/events?apiKey={KEY}"), Some(bad)).await;
    assert_eq!(r.body["calls"], json!([]), "{}", r.text);
    assert!(r.body["runs"][0]["error"].as_str().is_some_and(|e| e.contains("phone")), "{}", r.text);
}

#[tokio::test]
async fn an_agent_created_with_ai_is_a_normal_agent_whose_prompt_scores_well() {
    let s = TestServer::start().await;
    let kb = create_kb(&s, "Clinic").await;
    let body = json!({"description": "Books, reschedules and cancels clinic appointments and answers questions about doctors and timings.",
        "knowledgeBaseId": kb});
    let r = s.post("/agent/with-ai", KEY, body).await;
    assert_eq!((r.status, r.body["success"].as_bool()), (StatusCode::CREATED, Some(true)), "{}", r.text);
    let agent = r.body["data"].as_str().expect("id").to_string();
    let version = s.active_version(KEY, &agent).await;
    let r = s.post("/prompt-scoring/score", KEY, json!({"versionId": version})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["data"]["overall_score"].as_u64().is_some_and(|n| n >= 70), "{}", r.text);
    let both = json!({"description": "x", "questions": [{"question": "q", "answer": "a"}]});
    assert_eq!(s.post("/agent/with-ai", KEY, both).await.status, StatusCode::BAD_REQUEST);
    let r = s
        .post(
            "/agent/with-ai",
            KEY,
            json!({"description": "Sells shoes.", "knowledgeBaseId": "0123456789abcdef01234567"}),
        )
        .await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Knowledge base not found"));
    let r = s.delete(&format!("/knowledgebase/{kb}"), KEY).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "the generated agent uses the knowledge base: {}", r.text);
}
