//! Another key's ids answer exactly as unknown ids do (status and body),
//! on every route that takes an id: every `/atoms/v1` path parameter of
//! the mock's own OpenAPI document, plus the ids carried in queries and
//! bodies, except where the spec answers another organization's id with
//! 403 ([`FOREIGN_403`]: R016, R117, R181, L-I1).
//!
//! For a path with parameters p1…pn, each pk is tried with the caller's
//! own ids before it: another key's id against an unknown id of the same
//! shape. Both organizations hold one of everything, in v1 and v2 mode.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::{outbound, run_to_end};
use crate::campaigns::{audience, new_campaign};
use crate::helpers::TestServer;
use crate::webhooks::create_webhook;

const UNKNOWN_OBJECT: &str = "0123456789abcdef01234567";
const UNKNOWN_CALL: &str = "CALL-1767225600000-abcdef";
const CSV: &str = "phone,firstName\n+14155550101,Ada\n+14155550102,Grace\n";

/// One of everything an organization can hold, by kind.
#[derive(Debug, Clone)]
struct World {
    agent: String,
    draft: String,
    version: String,
    branch: String,
    revision: String,
    call: String,
    audience: String,
    campaign: String,
    webhook: String,
    workflow: String,
    compliance: String,
    org: String,
    knowledge_base: String,
    kb_item: String,
    scraped_url: String,
    call_action: String,
}

impl World {
    /// The id of `kind` (see [`kind_of`]).
    fn id(&self, kind: &str) -> &str {
        match kind {
            "agent" => &self.agent,
            "draft" => &self.draft,
            "version" => &self.version,
            "branch" => &self.branch,
            "revision" => &self.revision,
            "call" => &self.call,
            "audience" => &self.audience,
            "campaign" => &self.campaign,
            "webhook" => &self.webhook,
            "workflow" => &self.workflow,
            "compliance" => &self.compliance,
            "knowledge_base" => &self.knowledge_base,
            "kb_item" => &self.kb_item,
            "scraped_url" => &self.scraped_url,
            "call_action" => &self.call_action,
            other => panic!("no id of kind {other}"),
        }
    }

    /// Ids nobody holds, in the same shapes.
    fn unknown() -> Self {
        let o = UNKNOWN_OBJECT.to_string();
        Self {
            agent: o.clone(),
            draft: o.clone(),
            version: o.clone(),
            branch: o.clone(),
            revision: o.clone(),
            call: UNKNOWN_CALL.into(),
            audience: o.clone(),
            campaign: o.clone(),
            webhook: o.clone(),
            workflow: o.clone(),
            compliance: o.clone(),
            knowledge_base: o.clone(),
            kb_item: o.clone(),
            scraped_url: o.clone(),
            call_action: o.clone(),
            org: o,
        }
    }
}

/// Which kind of id the parameter `param` of `path` holds.
fn kind_of(path: &str, param: &str) -> &'static str {
    match param {
        "draftId" => "draft",
        "versionId" => "version",
        "branchId" => "branch",
        "revisionId" => "revision",
        "callId" => "call",
        "knowledgeBaseId" => "knowledge_base",
        "knowledgeBaseItemId" => "kb_item",
        "knowledgeBaseScrapedUrlsId" => "scraped_url",
        "id" => match path.trim_start_matches("/atoms/v1/").split('/').next() {
            Some("agent") => "agent",
            Some("audience") => "audience",
            Some("campaign") => "campaign",
            Some("webhook") => "webhook",
            Some("workflow") => "workflow",
            Some("conversation") => "call",
            Some("compliance") => "compliance",
            Some("knowledgebase") => "knowledge_base",
            Some("call-actions") => "call_action",
            other => panic!("unmapped {{id}} under {other:?}"),
        },
        other => panic!("unmapped path parameter {other} in {path}"),
    }
}

/// Creates one of everything for `key` (in v2 mode: branches and
/// revisions instead of drafts and versions).
async fn world(s: &TestServer, key: &str, v2: bool) -> World {
    if v2 {
        let r = s.admin(Method::PUT, &format!("/versioning?apiKey={key}"), Some(json!({"mode": "v2"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let agent = s.create_agent(key, "owned").await;
    let unknown = World::unknown();
    let (draft, version, branch, revision) = if v2 {
        let r = s.get(&format!("/agent/{agent}/branches"), key).await;
        let branch = r.body["data"]["branches"][0]["branch"]["_id"].as_str().expect("branch").to_string();
        let r = s.get(&format!("/agent/{agent}/branches/{branch}/revisions?limit=1"), key).await;
        let revision = r.body["data"]["revisions"][0]["_id"].as_str().expect("revision").to_string();
        (unknown.draft, unknown.version, branch, revision)
    } else {
        (s.fork_draft(key, &agent).await, s.active_version(key, &agent).await, unknown.branch, unknown.revision)
    };
    let call = outbound(s, key, &agent, "+14155550123", None).await;
    run_to_end(s, key, &call, 600).await;
    let aud = audience(s, key, CSV).await;
    let org =
        s.get(&format!("/audience/{aud}"), key).await.body["data"]["organization"].as_str().expect("org").to_string();
    let campaign = new_campaign(s, key, json!({"name": "Owned", "agentId": agent, "audienceId": aud})).await;
    let webhook = create_webhook(s, key, &format!("http://127.0.0.1:9/{key}"), &agent, &["pre-conversation"]).await;
    let detail = s.get(&format!("/agent/{agent}"), key).await;
    let workflow = detail.body["data"]["workflowId"].as_str().unwrap_or(&agent).to_string();
    let compliance = compliance_application(s, key).await;
    let (knowledge_base, kb_item, scraped_url) = knowledge(s, key).await;
    let action = json!({"agentId": agent, "category": "post-call", "provider": "probe", "config": {}});
    let r = s.post("/call-actions", key, action).await;
    let call_action = r.body["data"]["_id"].as_str().expect("call action").to_string();
    World {
        agent,
        draft,
        version,
        branch,
        revision,
        call,
        audience: aud,
        campaign,
        webhook,
        workflow,
        compliance,
        org,
        knowledge_base,
        kb_item,
        scraped_url,
        call_action,
    }
}

/// A knowledge base of `key` with one item and one scraped URL: their ids.
async fn knowledge(s: &TestServer, key: &str) -> (String, String, String) {
    let kb =
        s.post("/knowledgebase", key, json!({"name": "owned"})).await.body["data"].as_str().expect("kb").to_string();
    let path = format!("/knowledgebase/{kb}/items/text?apiKey={key}");
    let item = s.admin(Method::POST, &path, Some(json!({"content": "Owned text."}))).await;
    let item = item.body["_id"].as_str().expect("item").to_string();
    s.post(&format!("/knowledgebase/{kb}/scrape-urls"), key, json!({"urls": ["https://acme.example/faq"]})).await;
    let urls = s.get(&format!("/knowledgebase/{kb}/scraped-urls"), key).await;
    let url = urls.body["data"][0]["_id"].as_str().expect("scraped url").to_string();
    (kb, item, url)
}

/// Files a compliance application for US local numbers (no documents
/// needed); returns its id.
async fn compliance_application(s: &TestServer, key: &str) -> String {
    let boundary = "crosskeyboundary";
    let body: String = [
        ("countryIso", "US"),
        ("numberType", "local"),
        ("userType", "business"),
        ("endUser", r#"{"name":"Owner"}"#),
        ("documents", "[]"),
    ]
    .iter()
    .map(|(k, v)| format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"))
    .chain([format!("--{boundary}--\r\n")])
    .collect();
    let res = s
        .http
        .post(format!("{}/compliance/applications", s.base()))
        .bearer_auth(key)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), StatusCode::CREATED);
    let app: Value = res.json().await.expect("json");
    app["data"]["_id"].as_str().expect("application id").to_string()
}

/// The body a request to `method path` carries (its ids the caller's own).
fn body_for(method: &str, path: &str, own: &World) -> Option<Value> {
    let tail = path.rsplit('/').next().unwrap_or("");
    let body = match (method, tail) {
        ("get", _) => return None,
        ("delete", "members") => json!({"memberIds": [UNKNOWN_OBJECT]}),
        ("delete", _) => return None,
        ("post", "members") => json!({"members": [{"phone": "+18880000001"}]}),
        ("post", "drafts") => json!({"sourceVersionId": own.version}),
        ("post", "duplicate") => json!({"targetOrganizationId": own.org}),
        ("post", "branches") => json!({"name": "probe", "sourceBranchId": own.branch}),
        ("post", "publish") => json!({"label": "probe"}),
        ("post", "test-call") => json!({"phoneNumber": "+14155550123"}),
        ("post", "webhook-subscriptions") => json!({"eventTypes": ["pre-conversation"], "webhookId": own.webhook}),
        ("put", "draft") => json!({"globalPrompt": "probe"}),
        ("patch", "config") => json!({"firstMessage": "probe"}),
        ("patch", t) if t.ends_with("Id}") => json!({"name": "probe", "draftName": "probe", "label": "probe"}),
        ("patch", "{id}") => json!({"name": "probe", "description": "probe"}),
        _ => json!({}),
    };
    Some(body)
}

/// The operations whose answer to another organization's id is the
/// spec's 403 rather than the unknown id's 404: `(method, path, kind,
/// message)`.
const FOREIGN_403: [(&str, &str, &str, &str); 3] = [
    (
        "get",
        "/atoms/v1/conversation/{callId}/retries",
        "call",
        "Access denied — the call belongs to a different organization.",
    ),
    (
        "get",
        "/atoms/v1/conversation/logs/{callId}/retries",
        "call",
        "Access denied — the call belongs to a different organization.",
    ),
    ("get", "/atoms/v1/audience/{id}/members", "audience", "Forbidden — audience belongs to a different organization"),
];

/// Status and body of one answer, with the probed ids masked.
async fn answer(
    s: &TestServer,
    method: &Method,
    url: &str,
    key: &str,
    body: Option<&Value>,
    mask: &[&str],
) -> (u16, Value) {
    let r = s.raw(method.clone(), url, Some(key), body.map(|b| b.to_string().into_bytes())).await;
    let text = mask.iter().fold(r.text, |t, id| t.replace(id, "<ID>"));
    (r.status.as_u16(), serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Compares another key's id with an unknown one for every path parameter.
async fn probe_paths(s: &TestServer, key: &str, own: &World, theirs: &World) -> BTreeSet<(String, u16)> {
    let unknown = World::unknown();
    let doc = s.raw(Method::GET, &format!("{}/openapi.json", s.root()), None, None).await.body;
    let mut seen = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/atoms/v1/") || !path.contains('{') {
            continue;
        }
        let params: Vec<&str> = path.split('{').skip(1).filter_map(|p| p.split('}').next()).collect();
        for method in ops.as_object().expect("operations").keys() {
            let m: Method = method.to_uppercase().parse().expect("method");
            for k in 0..params.len() {
                let fill = |probe: &World| {
                    params.iter().enumerate().fold(path.clone(), |p, (i, name)| {
                        let kind = kind_of(path, name);
                        let id = match i.cmp(&k) {
                            std::cmp::Ordering::Less => own.id(kind),
                            std::cmp::Ordering::Equal => probe.id(kind),
                            std::cmp::Ordering::Greater => unknown.id(kind),
                        };
                        p.replace(&format!("{{{name}}}"), id)
                    })
                };
                let kind = kind_of(path, params[k]);
                let mask = [theirs.id(kind), unknown.id(kind)];
                let body = body_for(method, path, own);
                let base = s.root();
                let a = answer(s, &m, &format!("{base}{}", fill(&unknown)), key, body.as_ref(), &mask).await;
                let b = answer(s, &m, &format!("{base}{}", fill(theirs)), key, body.as_ref(), &mask).await;
                if let Some((.., msg)) =
                    FOREIGN_403.iter().find(|f| (f.0, f.1, f.2) == (method.as_str(), path.as_str(), kind))
                {
                    assert_eq!(a.0, 404, "{method} {path}: an unknown {kind}: {a:?}");
                    assert_eq!(
                        b,
                        (403, json!({"status": false, "errors": [msg]})),
                        "{method} {path}: another key's {kind}"
                    );
                    seen.insert((kind.to_string(), 403));
                    continue;
                }
                assert_eq!(b, a, "{method} {path}: another key's {kind} answered unlike an unknown one");
                seen.insert((kind.to_string(), a.0));
            }
        }
    }
    seen
}

/// Compares ids carried in queries and bodies.
async fn probe_carried(s: &TestServer, key: &str, own: &World, theirs: &World) {
    let unknown = World::unknown();
    type Request = (Method, String, Option<Value>);
    let requests = |x: &World| -> Vec<(&'static str, Request)> {
        vec![
            ("call", (Method::GET, format!("/events?callId={}", x.call), None)),
            ("call", (Method::POST, "/conversation/cancel".into(), Some(json!({"callId": x.call})))),
            ("call", (Method::POST, "/conversation/search".into(), Some(json!({"callIds": [x.call]})))),
            ("agent", (Method::GET, format!("/conversation?agentId={}", x.agent), None)),
            (
                "agent",
                (
                    Method::POST,
                    "/conversation/outbound".into(),
                    Some(json!({"agentId": x.agent, "phoneNumber": "+14155550123"})),
                ),
            ),
            ("agent", (Method::POST, "/conversation/webcall".into(), Some(json!({"agentId": x.agent})))),
            ("agent", (Method::POST, "/conversation/chat".into(), Some(json!({"agentId": x.agent})))),
            ("agent", (Method::POST, "/conversation/register-call".into(), Some(json!({"agent_id": x.agent})))),
            (
                "agent",
                (
                    Method::POST,
                    "/campaign".into(),
                    Some(json!({"name": "p", "agentId": x.agent, "audienceId": own.audience})),
                ),
            ),
            (
                "audience",
                (
                    Method::POST,
                    "/campaign".into(),
                    Some(json!({"name": "p", "agentId": own.agent, "audienceId": x.audience})),
                ),
            ),
            (
                "agent",
                (
                    Method::POST,
                    "/webhook".into(),
                    Some(
                        json!({"endpoint": "http://127.0.0.1:9/probe", "events": [{"agentId": x.agent, "eventType": "pre-conversation"}]}),
                    ),
                ),
            ),
            ("webhook", (Method::GET, format!("/webhook?webhookId={}", x.webhook), None)),
            (
                "webhook",
                (
                    Method::POST,
                    format!("/agent/{}/webhook-subscriptions", own.agent),
                    Some(json!({"eventTypes": ["pre-conversation"], "webhookId": x.webhook})),
                ),
            ),
            (
                "version",
                (
                    Method::GET,
                    format!("/agent/{}/versions/diff?versionA={}&versionB={}", own.agent, x.version, own.version),
                    None,
                ),
            ),
        ]
    };
    for ((kind, (m, path, body)), (_, (_, foreign_path, foreign_body))) in
        requests(&unknown).into_iter().zip(requests(theirs))
    {
        let mask = [theirs.id(kind), unknown.id(kind)];
        let a = answer(s, &m, &format!("{}{path}", s.base()), key, body.as_ref(), &mask).await;
        let b = answer(s, &m, &format!("{}{foreign_path}", s.base()), key, foreign_body.as_ref(), &mask).await;
        assert_eq!(b, a, "{m} {path}: another key's {kind} answered unlike an unknown one");
    }
    // The realtime handshake (R196: 401 for an unknown agent).
    let refused = |agent: String| async move {
        let url = format!("ws://{}/atoms/v1/agent/connect?token={key}&agent_id={agent}", s.server.addr());
        crate::realtime::refused(&url, &[]).await
    };
    assert_eq!(refused(theirs.agent.clone()).await, refused(unknown.agent.clone()).await);
}

#[tokio::test]
async fn another_keys_ids_answer_as_unknown_ids_on_every_route_but_the_specs_403s() {
    let s = TestServer::start().await;
    for (mine, other, v2) in [("sk_probe_a", "sk_owner_b", false), ("sk_probe_c", "sk_owner_d", true)] {
        let own = world(&s, mine, v2).await;
        let theirs = world(&s, other, v2).await;
        let seen = probe_paths(&s, mine, &own, &theirs).await;
        for kind in ["call", "audience"] {
            assert!(seen.contains(&(kind.to_string(), 403)), "every FOREIGN_403 operation was probed: {seen:?}");
        }
        probe_carried(&s, mine, &own, &theirs).await;
        // The probes reached the lookups: every kind answered "not found" somewhere.
        let kinds = if v2 { vec!["agent", "branch", "revision"] } else { vec!["agent", "draft", "version"] };
        for kind in kinds.into_iter().chain(["call", "audience", "campaign", "webhook"]) {
            assert!(seen.iter().any(|(k, status)| k == kind && (*status == 404 || *status == 400)), "{kind}: {seen:?}");
        }
        assert!(seen.contains(&("agent".to_string(), 404)), "{seen:?}");
        // Nothing of the owner's changed hands.
        let list = s.get("/agent", other).await;
        assert_eq!(list.body["data"]["totalCount"], 1, "{}", list.text);
    }
}
