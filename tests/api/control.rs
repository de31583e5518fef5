//! The control API's request journal and fault injection (mock
//! extensions under `/_admin`). No test sleeps: delays run on the virtual
//! clock and waits are long-polls with timeouts.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestServer;

/// `GET /_admin/journal?<query>`'s body.
async fn journal(s: &TestServer, query: &str) -> Value {
    let r = s.admin(Method::GET, &format!("/journal?{query}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// The journal's entries for `query`.
async fn entries(s: &TestServer, query: &str) -> Vec<Value> {
    journal(s, query).await["entries"].as_array().cloned().unwrap_or_default()
}

/// Adds a fault rule; returns its id.
async fn add_fault(s: &TestServer, rule: Value) -> String {
    let r = s.admin(Method::POST, "/faults", Some(rule)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().expect("id").to_string()
}

/// The listed rule with `id`.
async fn fault(s: &TestServer, id: &str) -> Value {
    let list = s.admin(Method::GET, "/faults", None).await.body["faults"].clone();
    list.as_array().into_iter().flatten().find(|f| f["id"] == id).cloned().unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_journal_records_api_requests_with_the_authorization_redacted() {
    let s = TestServer::start().await;
    let r = s.post("/agent?via=test", "sk_journal_9876", json!({"name": "journaled"})).await;
    s.raw(Method::GET, &format!("{}/healthz", s.root()), None, None).await;
    s.admin(Method::GET, "/clock", None).await;

    let list = entries(&s, "").await;

    assert_eq!(list.len(), 1, "only /atoms/v1 is recorded: {list:?}");
    let e = &list[0];
    assert_eq!(
        (e["seq"].as_u64(), e["method"].as_str(), e["path"].as_str()),
        (Some(1), Some("POST"), Some("/atoms/v1/agent"))
    );
    assert_eq!((e["query"].as_str(), e["apiKey"].as_str()), (Some("via=test"), Some("sk_journal_9876")));
    assert_eq!(e["at"], "2026-01-01T00:00:00.000Z");
    assert!(e["latencyMs"].is_u64());
    assert_eq!(e["request"]["headers"]["authorization"], "***9876");
    assert_eq!(e["request"]["body"]["text"], r#"{"name":"journaled"}"#);
    assert_eq!(e["response"]["status"], 201);
    assert_eq!(e["response"]["body"]["text"].as_str(), Some(r.text.as_str()));
    assert!(e["response"]["headers"]["x-request-id"].is_string());
    assert_eq!((e["response"]["streamed"].as_bool(), &e["fault"]), (Some(false), &Value::Null));
}

#[tokio::test]
async fn journal_filters_select_by_key_method_path_status_and_since() {
    let s = TestServer::start().await;
    s.get("/agent", "sk_filter_a").await;
    s.post("/agent", "sk_filter_b", json!({"name": "b"})).await;
    s.call(Method::GET, "/agent", None, None).await;
    s.get("/no-such-route", "sk_filter_a").await;

    let seqs = |list: Vec<Value>| list.iter().filter_map(|e| e["seq"].as_u64()).collect::<Vec<_>>();
    assert_eq!(seqs(entries(&s, "apiKey=sk_filter_b").await), [2]);
    assert_eq!(seqs(entries(&s, "method=get").await), [1, 3, 4]);
    assert_eq!(seqs(entries(&s, "pathPrefix=/agent").await), [1, 2, 3]);
    assert_eq!(seqs(entries(&s, "pathPrefix=/atoms/v1/no-such").await), [4]);
    assert_eq!(seqs(entries(&s, "status=4xx").await), [3, 4]);
    assert_eq!(seqs(entries(&s, "status=401").await), [3]);
    assert_eq!(seqs(entries(&s, "since=2&limit=1").await), [3]);
    assert_eq!(journal(&s, "since=4").await["lastSeq"], 4);
    assert_eq!(entries(&s, "apiKey=sk_filter_a").await[0]["request"]["headers"]["authorization"], "***er_a");
    let bad = s.admin(Method::GET, "/journal?status=teapot", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_long_poll_answers_as_soon_as_a_matching_request_is_recorded() {
    let s = TestServer::start().await;
    s.get("/agent", "sk_poll").await;
    let url = format!("{}/_admin/journal/wait?since=1&method=POST&timeoutMs=60000", s.root());
    let waiter = tokio::spawn(s.http.get(url).send());

    s.get("/agent", "sk_poll").await;
    s.post("/agent", "sk_poll", json!({"name": "awaited"})).await;

    let res = waiter.await.expect("join").expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    let e: Value = res.json().await.expect("json");
    assert_eq!((e["seq"].as_u64(), e["method"].as_str()), (Some(3), Some("POST")));
}

#[tokio::test]
async fn the_long_poll_gives_408_when_nothing_matches_in_time() {
    let s = TestServer::start().await;
    s.get("/agent", "sk_poll").await;

    let r = s.admin(Method::GET, "/journal/wait?since=1&timeoutMs=20", None).await;

    assert_eq!((r.status, r.error()), (StatusCode::REQUEST_TIMEOUT, "No matching request within 20 ms"));
}

#[tokio::test]
async fn the_journal_keeps_only_its_capacity_and_can_be_cleared() {
    let s =
        TestServer::with_config(atoms_mock::Config { journal_capacity: 3, ..atoms_mock::Config::for_tests() }).await;
    for _ in 0..5 {
        s.get("/agent", "sk_bounded").await;
    }

    let body = journal(&s, "").await;
    let seqs: Vec<u64> =
        body["entries"].as_array().expect("entries").iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!((seqs, &body["capacity"], &body["lastSeq"]), (vec![3, 4, 5], &json!(3), &json!(5)));

    assert_eq!(s.admin(Method::DELETE, "/journal", None).await.body, json!({"cleared": true}));
    s.get("/agent", "sk_bounded").await;
    assert_eq!(entries(&s, "").await.iter().map(|e| e["seq"].clone()).collect::<Vec<_>>(), [json!(6)]);
}

/// The `seq`s of a listing.
fn seqs(listing: &Value) -> Vec<u64> {
    listing["entries"].as_array().expect("entries").iter().filter_map(|e| e["seq"].as_u64()).collect()
}

#[tokio::test]
async fn the_journal_byte_budget_evicts_the_oldest_entries_first() {
    let config = atoms_mock::Config { journal_bytes: 150_000, ..atoms_mock::Config::for_tests() };
    let s = TestServer::with_config(config).await;
    let body = json!({"name": "x".repeat(40_000)});
    for _ in 0..5 {
        s.post("/agent", "sk_budget", body.clone()).await;
    }

    let listing = journal(&s, "").await;

    assert_eq!(seqs(&listing), [3, 4, 5], "three 40 kB requests fit in 150 kB; the two oldest went");
    assert_eq!((&listing["budgetBytes"], &listing["lastSeq"]), (&json!(150_000), &json!(5)));
    let used = listing["usedBytes"].as_u64().expect("usedBytes");
    assert!((120_000..=150_000).contains(&used), "{used}");
}

#[tokio::test]
async fn journal_listings_are_pages_bounded_in_bytes_and_followed_with_next_since() {
    let s = TestServer::start().await;
    let body = json!({"name": "x".repeat(40_000)});
    for _ in 0..40 {
        s.post("/agent", "sk_pages", body.clone()).await;
    }

    let first = journal(&s, "").await;
    let n = seqs(&first).len();
    assert!((10..40).contains(&n), "a 1 MiB page holds part of 40 entries of 40 kB: {n}");
    assert_eq!(first["nextSince"], json!(n));
    let rest = journal(&s, &format!("since={n}")).await;
    assert_eq!(seqs(&rest), (n as u64 + 1..=40).collect::<Vec<_>>());
    assert_eq!(rest["nextSince"], Value::Null, "the last page");

    let two = journal(&s, "limit=2").await;
    assert_eq!((seqs(&two), &two["nextSince"]), (vec![1, 2], &json!(2)));
}

#[tokio::test]
async fn a_503_rule_with_times_two_fires_twice_then_the_handler_answers() {
    let s = TestServer::start().await;
    let agent = s.create_agent("sk_fault", "target").await;
    let id = add_fault(&s, json!({"method": "GET", "pathPattern": "/agent/*", "status": 503, "times": 2})).await;

    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(s.get(&format!("/agent/{agent}"), "sk_fault").await);
    }

    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [503, 503, 200]);
    assert_eq!(answers[0].body, json!({"status": false, "errors": ["Service Unavailable"]}));
    assert_eq!(answers[2].body["data"]["name"], "target");
    let rule = fault(&s, &id).await;
    assert_eq!((&rule["hits"], &rule["remaining"], &rule["times"]), (&json!(2), &json!(0), &json!(2)));
    let faulted: Vec<Value> = entries(&s, "method=GET").await.iter().map(|e| e["fault"].clone()).collect();
    assert_eq!(faulted, [json!(id), json!(id), Value::Null]);
}

#[tokio::test]
async fn a_rule_scoped_to_one_key_leaves_other_keys_alone() {
    let s = TestServer::start().await;
    add_fault(&s, json!({"pathPattern": "/atoms/v1/agent", "apiKey": "sk_victim", "status": 500})).await;

    let victim = s.get("/agent", "sk_victim").await;
    let bystander = s.get("/agent", "sk_bystander").await;

    assert_eq!(
        (victim.status, victim.body.clone()),
        (StatusCode::INTERNAL_SERVER_ERROR, json!({"status": false, "errors": ["Internal server error"]}))
    );
    assert_eq!(bystander.status, StatusCode::OK);
}

#[tokio::test]
async fn a_429_rule_sends_retry_after_and_the_rate_limit_body() {
    let s = TestServer::start().await;
    add_fault(&s, json!({"pathPattern": "/agent", "status": 429, "retryAfter": 7})).await;

    let res = s.http.get(format!("{}/agent", s.base())).bearer_auth("sk_limited").send().await.expect("response");

    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "7");
    assert!(res.headers().contains_key("x-request-id"));
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        body,
        json!({"status": false, "errors": ["Rate limit exceeded"], "code": "RATE_LIMIT_EXCEEDED", "retry_after": 7})
    );
}

#[tokio::test]
async fn probability_zero_never_fires_and_one_always_fires() {
    let s = TestServer::start().await;
    let never = add_fault(&s, json!({"pathPattern": "/agent", "method": "GET", "status": 500, "probability": 0})).await;
    let always =
        add_fault(&s, json!({"pathPattern": "/agent", "method": "POST", "status": 502, "probability": 1})).await;

    for _ in 0..20 {
        assert_eq!(s.get("/agent", "sk_dice").await.status, StatusCode::OK);
        assert_eq!(s.post("/agent", "sk_dice", json!({"name": "x"})).await.status, StatusCode::BAD_GATEWAY);
    }

    assert_eq!((&fault(&s, &never).await["hits"], &fault(&s, &always).await["hits"]), (&json!(0), &json!(20)));
}

#[tokio::test]
async fn a_faulted_post_creates_nothing() {
    let s = TestServer::start().await;
    add_fault(&s, json!({"pathPattern": "/agent", "method": "POST", "status": 500, "body": {"custom": true}})).await;

    let r = s.post("/agent", "sk_nothing", json!({"name": "ghost"})).await;

    assert_eq!((r.status, r.body.clone()), (StatusCode::INTERNAL_SERVER_ERROR, json!({"custom": true})));
    assert_eq!(s.get("/agent", "sk_nothing").await.body["data"]["totalCount"], 0);
}

#[tokio::test]
async fn unauthenticated_requests_are_faulted_by_rules_without_a_key() {
    let s = TestServer::start().await;
    add_fault(&s, json!({"pathPattern": "/**", "status": 503})).await;

    let r = s.call(Method::GET, "/agent", None, None).await;

    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_delay_rule_holds_the_request_until_the_clock_moves_then_lets_it_through() {
    let s = TestServer::start().await;
    let id = add_fault(&s, json!({"pathPattern": "/agent", "method": "GET", "delayMs": 5000})).await;
    let held = tokio::spawn(s.http.get(format!("{}/agent", s.base())).bearer_auth("sk_slow").send());
    // The rule counts the hit (and fixes the deadline) as the request arrives.
    s.until("the held request reached the rule", || async { fault(&s, &id).await["hits"] == 1 }).await;

    let early = s.admin(Method::GET, "/journal/wait?pathPrefix=/agent&timeoutMs=50", None).await;
    assert_eq!(early.status, StatusCode::REQUEST_TIMEOUT, "still held while the clock stands still");
    s.advance(5.0).await;

    let res = held.await.expect("join").expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    let e = s.admin(Method::GET, "/journal/wait?pathPrefix=/agent&timeoutMs=10000", None).await.body;
    assert_eq!(
        (&e["response"]["status"], &e["fault"], &e["at"]),
        (&json!(200), &json!(id), &json!("2026-01-01T00:00:00.000Z"))
    );
}

#[tokio::test]
async fn rules_can_be_listed_deleted_and_are_validated() {
    let s = TestServer::start().await;
    let a = add_fault(&s, json!({"pathPattern": "/agent", "status": 500})).await;
    let b = add_fault(&s, json!({"pathPattern": "/campaign/**", "status": 503, "headers": {"x-fault": "yes"}})).await;

    assert_eq!(s.admin(Method::DELETE, &format!("/faults/{a}"), None).await.body, json!({"deleted": a}));
    let r = s.admin(Method::DELETE, &format!("/faults/{a}"), None).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Fault rule not found"));
    let listed = s.admin(Method::GET, "/faults", None).await.body;
    assert_eq!(listed["faults"].as_array().map(Vec::len), Some(1));
    assert_eq!((&listed["faults"][0]["id"], &listed["faults"][0]["headers"]["x-fault"]), (&json!(b), &json!("yes")));
    let bad =
        s.admin(Method::POST, "/faults", Some(json!({"pathPattern": "/agent", "probability": 2, "status": 500}))).await;
    assert_eq!((bad.status, bad.error()), (StatusCode::BAD_REQUEST, "probability: must be between 0 and 1"));
    assert_eq!(s.admin(Method::DELETE, "/faults", None).await.body, json!({"cleared": true}));
    assert_eq!(s.admin(Method::GET, "/faults", None).await.body, json!({"faults": []}));
}

#[tokio::test]
async fn a_full_reset_clears_the_journal_and_the_rules_and_a_key_reset_only_that_keys() {
    let s = TestServer::start().await;
    add_fault(&s, json!({"pathPattern": "/agent", "apiKey": "sk_reset_a", "method": "POST", "status": 500})).await;
    add_fault(&s, json!({"pathPattern": "/campaign", "status": 500})).await;
    s.get("/agent", "sk_reset_a").await;
    s.get("/agent", "sk_reset_b").await;

    s.admin(Method::POST, "/reset?apiKey=sk_reset_a", None).await;
    let keys: Vec<Value> = entries(&s, "").await.iter().map(|e| e["apiKey"].clone()).collect();
    assert_eq!(keys, [json!("sk_reset_b")]);
    assert_eq!(s.admin(Method::GET, "/faults", None).await.body["faults"].as_array().map(Vec::len), Some(1));

    s.admin(Method::POST, "/reset", None).await;
    assert!(entries(&s, "").await.is_empty());
    assert_eq!(s.admin(Method::GET, "/faults", None).await.body, json!({"faults": []}));
    assert_eq!(s.get("/campaign", "sk_reset_b").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_open_event_stream_is_journaled_with_status_and_headers_only() {
    let s = TestServer::start().await;
    let agent = crate::call_helpers::agent(&s, "sk_stream", "streamed").await;
    let call_id = crate::call_helpers::outbound(&s, "sk_stream", &agent, "+15005550001", None).await;
    let stream = crate::call_helpers::open_events(&s, "sk_stream", &call_id).await;

    let e = s.admin(Method::GET, "/journal/wait?pathPrefix=/events&timeoutMs=10000", None).await.body;

    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(
        (&e["response"]["status"], &e["response"]["streamed"], &e["response"]["body"]),
        (&json!(200), &json!(true), &Value::Null)
    );
    assert!(e["response"]["headers"]["content-type"].as_str().is_some_and(|c| c.starts_with("text/event-stream")));
}

#[tokio::test]
async fn an_oversized_body_gets_413_unread_and_is_journaled_with_its_declared_length() {
    let s = TestServer::start().await;
    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let declared = big.len();

    let r = s.raw(Method::POST, &format!("{}/agent", s.base()), Some("sk_big"), Some(big.into_bytes())).await;

    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    let e = &entries(&s, "apiKey=sk_big").await[0];
    assert_eq!(e["request"]["body"], json!({"text": "", "size": declared, "truncated": true}));
    assert_eq!(e["response"]["status"], 413);
}

#[tokio::test]
async fn a_long_body_is_kept_truncated_at_64_kib_with_its_length() {
    let s = TestServer::start().await;
    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(300 * 1024));
    let len = big.len();

    s.raw(Method::POST, &format!("{}/agent", s.base()), Some("sk_long"), Some(big.into_bytes())).await;

    let e = &entries(&s, "apiKey=sk_long").await[0];
    let body = &e["request"]["body"];
    assert_eq!((body["truncated"].as_bool(), body["text"].as_str().map(str::len)), (Some(true), Some(64 * 1024)));
    assert_eq!(body["size"].as_u64(), u64::try_from(len).ok());
}
