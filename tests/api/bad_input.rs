//! Bad input never gets a 500 or a plain-text body (BEHAVIOR R003, R005,
//! R012, R016, R027): a table of malformed JSON, wrong types, missing
//! fields, an oversized body, malformed and foreign ids and unknown
//! routes, each answered in the error envelope with a message that names
//! the problem, and none of them changing stored state.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestServer;

const KEY: &str = "sk_bad";
const OTHER: &str = "sk_other";

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    key: Option<&'static str>,
    body: Option<Vec<u8>>,
    status: StatusCode,
    /// A substring the first error message must contain.
    mentions: &'static str,
}

#[tokio::test]
async fn bad_input_table_answers_in_the_envelope_and_stores_nothing() {
    let s = TestServer::start().await;
    let agent = s.create_agent(KEY, "victim").await;
    let draft = s.fork_draft(KEY, &agent).await;
    let foreign = s.create_agent(OTHER, "foreign").await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 + 10)).into_bytes();
    let j = |v: serde_json::Value| Some(v.to_string().into_bytes());
    let cases = vec![
        Case {
            name: "malformed JSON",
            method: Method::POST,
            path: "/agent".into(),
            key: Some(KEY),
            body: Some(b"{\"name\": ".to_vec()),
            status: StatusCode::BAD_REQUEST,
            mentions: "Malformed JSON",
        },
        Case {
            name: "trailing garbage",
            method: Method::POST,
            path: "/agent".into(),
            key: Some(KEY),
            body: Some(b"{\"name\": \"a\"} x".to_vec()),
            status: StatusCode::BAD_REQUEST,
            mentions: "JSON",
        },
        Case {
            name: "array instead of object",
            method: Method::POST,
            path: "/agent".into(),
            key: Some(KEY),
            body: j(json!(["name"])),
            status: StatusCode::BAD_REQUEST,
            mentions: "Invalid input",
        },
        Case {
            name: "empty array body",
            method: Method::POST,
            path: "/agent".into(),
            key: Some(KEY),
            body: Some(b"[]".to_vec()),
            status: StatusCode::BAD_REQUEST,
            mentions: "Invalid input: Expected object, received array",
        },
        Case {
            name: "lone surrogate escape",
            method: Method::POST,
            path: "/agent".into(),
            key: Some(KEY),
            body: Some(br#"{"name": "\ud800"}"#.to_vec()),
            status: StatusCode::BAD_REQUEST,
            mentions: "lone UTF-16 surrogate",
        },
        Case {
            name: "wrong type for name",
            method: Method::POST,
            path: "/agent".into(),
            key: Some(KEY),
            body: j(json!({"name": 42})),
            status: StatusCode::BAD_REQUEST,
            mentions: "name: Expected string, received number",
        },
        Case {
            name: "missing name",
            method: Method::POST,
            path: "/agent".into(),
            key: Some(KEY),
            body: j(json!({"description": "d"})),
            status: StatusCode::BAD_REQUEST,
            mentions: "name: Required",
        },
        Case {
            name: "wrong type in config",
            method: Method::PATCH,
            path: format!("/agent/{agent}/drafts/{draft}/config"),
            key: Some(KEY),
            body: j(json!({"synthesizer": {"speed": "fast"}})),
            status: StatusCode::BAD_REQUEST,
            mentions: "synthesizer.speed",
        },
        Case {
            name: "missing draftName",
            method: Method::PATCH,
            path: format!("/agent/{agent}/drafts/{draft}"),
            key: Some(KEY),
            body: j(json!({})),
            status: StatusCode::BAD_REQUEST,
            mentions: "draftName: Required",
        },
        Case {
            name: "oversized body",
            method: Method::POST,
            path: "/agent".into(),
            key: Some(KEY),
            body: Some(big),
            status: StatusCode::PAYLOAD_TOO_LARGE,
            mentions: "too large",
        },
        Case {
            name: "malformed agent id",
            method: Method::GET,
            path: "/agent/xyz".into(),
            key: Some(KEY),
            body: None,
            status: StatusCode::BAD_REQUEST,
            mentions: "Invalid agent id",
        },
        Case {
            name: "malformed version id",
            method: Method::GET,
            path: format!("/agent/{agent}/versions/xyz"),
            key: Some(KEY),
            body: None,
            status: StatusCode::BAD_REQUEST,
            mentions: "Invalid version id",
        },
        Case {
            name: "malformed sourceVersionId",
            method: Method::POST,
            path: format!("/agent/{agent}/drafts"),
            key: Some(KEY),
            body: j(json!({"sourceVersionId": "v1"})),
            status: StatusCode::BAD_REQUEST,
            mentions: "sourceVersionId",
        },
        Case {
            name: "foreign agent on GET",
            method: Method::GET,
            path: format!("/agent/{foreign}"),
            key: Some(KEY),
            body: None,
            status: StatusCode::BAD_REQUEST,
            mentions: "No agent found",
        },
        Case {
            name: "foreign agent on drafts",
            method: Method::POST,
            path: format!("/agent/{foreign}/drafts"),
            key: Some(KEY),
            body: j(json!({"sourceVersionId": "0123456789abcdef01234567"})),
            status: StatusCode::NOT_FOUND,
            mentions: "Agent not found",
        },
        Case {
            name: "bad query value",
            method: Method::GET,
            path: "/agent?page=two".into(),
            key: Some(KEY),
            body: None,
            status: StatusCode::BAD_REQUEST,
            mentions: "page",
        },
        Case {
            name: "no auth",
            method: Method::GET,
            path: "/agent".into(),
            key: None,
            body: None,
            status: StatusCode::UNAUTHORIZED,
            mentions: "Unauthorized: User not found",
        },
        Case {
            name: "empty bearer",
            method: Method::GET,
            path: "/agent".into(),
            key: Some(""),
            body: None,
            status: StatusCode::UNAUTHORIZED,
            mentions: "Unauthorized: User not found",
        },
    ];
    for c in cases {
        let r = s.raw(c.method.clone(), &format!("{}{}", s.base(), c.path), c.key, c.body).await;
        assert_eq!(r.status, c.status, "{}: {}", c.name, r.text);
        assert!(r.content_type.starts_with("application/json"), "{}: content-type {}", c.name, r.content_type);
        assert_eq!(r.body["status"], false, "{}: {}", c.name, r.text);
        assert!(r.error().contains(c.mentions), "{}: {:?} lacks {:?}", c.name, r.error(), c.mentions);
    }
    // A multipart upload without its boundary is named as such.
    let res = s
        .http
        .post(format!("{}/audience", s.base()))
        .bearer_auth(KEY)
        .header("content-type", "multipart/form-data")
        .body("--x\r\n")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(
        body["errors"][0],
        "Malformed multipart body: expected Content-Type multipart/form-data with a boundary parameter, received 'multipart/form-data'"
    );
    // Nothing a client stored was lost or changed.
    let list = s.get("/agent", KEY).await;
    assert_eq!(list.body["data"]["totalCount"], 1);
    assert_eq!(s.get(&format!("/agent/{agent}/drafts/{draft}/diff"), KEY).await.body["data"]["hasChanges"], false);
    assert_eq!(s.get("/agent", OTHER).await.body["data"]["totalCount"], 1);
}

#[tokio::test]
async fn require_key_limits_which_keys_authenticate() {
    let config = atoms_mock::Config { require_keys: vec!["sk_allowed".into()], ..atoms_mock::Config::for_tests() };
    let s = TestServer::with_config(config).await;
    assert_eq!(s.get("/agent", "sk_allowed").await.status, StatusCode::OK);
    let r = s.get("/agent", "sk_intruder").await;
    assert_eq!(r.body, json!({"status": false, "errors": ["Unauthorized: User not found"]}));
    let health = s.raw(Method::GET, &format!("{}/healthz", s.root()), None, None).await;
    assert_eq!(health.status, StatusCode::OK, "healthz needs no auth");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let s = TestServer::start().await;
    let res = s.http.get(format!("{}/agent", s.base())).send().await.expect("request");
    assert!(res.headers().get("x-request-id").is_some());
}
