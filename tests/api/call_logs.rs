//! Call logs end to end: every `GET /conversation` filter, sort and
//! pagination rule (R111–R113, L-E5), search (R114), both cancel forms
//! (R118, R119), retry families (R117), recording URLs and the WAV behind
//! them (R116), and agent call-logs in milliseconds (R039).

use std::path::PathBuf;

use atoms_mock::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::*;
use crate::helpers::{Reply, TestServer};

const KEY: &str = "sk_logs";
const PHONE: &str = "+14155550123";

/// A fixtures directory adding scenarios whose talk time lands in each
/// `durationFilter` range. Written once per process: tests run in
/// parallel, and rewriting the files while another test's server loads
/// them made that load fail now and then.
fn long_scenarios() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(write_long_scenarios).clone()
}

fn write_long_scenarios() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atoms-mock-call-logs-{}", std::process::id()));
    let sdir = dir.join("scenarios");
    std::fs::create_dir_all(&sdir).expect("mkdir");
    for (name, ms) in [("talk-45", 45_000), ("talk-90", 90_000), ("talk-400", 400_000)] {
        let body = json!({"name": name, "outcome": "completed", "ringSeconds": 1,
                          "turns": [{"agent": {"text": "Hold on."}}, {"pause": {"ms": ms}}]});
        std::fs::write(sdir.join(format!("{name}.json")), body.to_string()).expect("write");
    }
    dir
}

async fn list(s: &TestServer, query: &str) -> Reply {
    s.get(&format!("/conversation?{query}"), KEY).await
}

/// The `callId`s of a list reply, in order.
fn ids(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"]["logs"].as_array().expect("logs").iter().map(|l| l["callId"].as_str().unwrap_or("").into()).collect()
}

fn set(v: &[&String]) -> Vec<String> {
    let mut out: Vec<String> = v.iter().map(|s| (*s).clone()).collect();
    out.sort();
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

struct World {
    s: TestServer,
    agent_a: String,
    agent_b: String,
    version_2: String,
    happy: String,
    no_answer: String,
    busy: String,
    web: String,
    retry: String,
    pinned: String,
    t45: String,
    t90: String,
    t400: String,
}

/// Two agents and one call of every kind, all ended.
async fn world() -> World {
    let s = TestServer::with_config(Config { fixtures: Some(long_scenarios()), ..Config::for_tests() }).await;
    let agent_a = agent(&s, KEY, "a").await;
    let agent_b = agent(&s, KEY, "b").await;
    let draft = s.fork_draft(KEY, &agent_a).await;
    let version_2 = s.publish(KEY, &agent_a, &draft).await;
    let happy = outbound(&s, KEY, &agent_a, PHONE, None).await;
    let no_answer = outbound(&s, KEY, &agent_a, "+15005550001", None).await;
    let busy = outbound(&s, KEY, &agent_b, "+442071234567", Some("busy")).await;
    let web = s.post("/conversation/webcall", KEY, json!({"agentId": agent_b})).await.body["data"]["callId"]
        .as_str()
        .expect("webcall callId")
        .to_string();
    let r = s
        .post("/conversation/outbound", KEY, json!({"agentId": agent_a, "phoneNumber": PHONE, "versionId": version_2}))
        .await;
    let pinned = r.body["data"]["conversationId"].as_str().expect("pinned").to_string();
    s.advance(60.0).await;
    let t45 = outbound(&s, KEY, &agent_b, PHONE, Some("talk-45")).await;
    let t90 = outbound(&s, KEY, &agent_b, PHONE, Some("talk-90")).await;
    let t400 = outbound(&s, KEY, &agent_b, PHONE, Some("talk-400")).await;
    let r = s.admin(Method::POST, &format!("/calls/{no_answer}/retry?apiKey={KEY}&scenario=happy-path"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let retry = r.body["callId"].as_str().expect("retry").to_string();
    s.advance(600.0).await;
    World { s, agent_a, agent_b, version_2, happy, no_answer, busy, web, retry, pinned, t45, t90, t400 }
}

#[tokio::test]
async fn every_list_filter_of_r111_narrows_the_logs() {
    let w = world().await;
    let s = &w.s;
    let roots = [&w.happy, &w.no_answer, &w.busy, &w.web, &w.pinned, &w.t45, &w.t90, &w.t400];
    let all = ids(&list(s, "limit=100").await);
    assert_eq!(sorted(all), set(&roots), "R113: roots only by default");
    let cases: Vec<(String, Vec<&String>)> = vec![
        (format!("agentIds={}", w.agent_a), vec![&w.happy, &w.no_answer, &w.pinned]),
        (format!("agentIds={},{}", w.agent_a, w.agent_b), roots.to_vec()),
        ("campaignIds=0123456789abcdef01234567".into(), vec![]),
        ("callTypes=webcall".into(), vec![&w.web]),
        ("callTypes=telephony_inbound,webcall".into(), vec![&w.web]),
        (format!("search={}", &w.busy[5..18]), vec![&w.happy, &w.no_answer, &w.busy, &w.web, &w.pinned]),
        (format!("search={}", w.busy.to_lowercase()), vec![&w.busy]),
        ("search=%2B4420712".into(), vec![&w.busy]),
        ("search=+15005550001".into(), vec![&w.no_answer]),
        ("statusFilter=no_answer,failed".into(), vec![&w.no_answer, &w.busy]),
        ("statusFilter=in_queue".into(), vec![]),
        ("disconnectReasonFilter=dial_no_answer".into(), vec![&w.no_answer]),
        (
            "disconnectReasonFilter=connection_error,user_hangup".into(),
            vec![&w.busy, &w.happy, &w.web, &w.pinned, &w.t45, &w.t90, &w.t400],
        ),
        ("callAttemptFilter=retry".into(), vec![&w.retry]),
        ("callAttemptFilter=initial".into(), roots.to_vec()),
        ("durationFilter=30-60".into(), vec![&w.t45]),
        ("durationFilter=1-5".into(), vec![&w.t90]),
        ("durationFilter=5%2B".into(), vec![&w.t400]),
        ("durationFilter=0-30".into(), vec![&w.happy, &w.no_answer, &w.busy, &w.web, &w.pinned]),
        ("durationFilter=30-60,5%2B".into(), vec![&w.t45, &w.t400]),
        (format!("versionFilter={}", w.version_2), vec![&w.pinned]),
        ("dateFrom=2026-01-01T00:01:00.000Z".into(), vec![&w.t45, &w.t90, &w.t400]),
        ("dateTo=2026-01-01T00:00:59.999Z".into(), vec![&w.happy, &w.no_answer, &w.busy, &w.web, &w.pinned]),
        (
            "dateFrom=2026-01-01T00:00:00.000Z&dateTo=2026-01-01T00:00:00.000Z".into(),
            vec![&w.happy, &w.no_answer, &w.busy, &w.web, &w.pinned],
        ),
        (
            format!("agentIds={}&statusFilter=completed&callTypes=telephony_outbound", w.agent_b),
            vec![&w.t45, &w.t90, &w.t400],
        ),
    ];
    for (query, want) in cases {
        assert_eq!(sorted(ids(&list(s, &format!("limit=100&{query}")).await)), set(&want), "{query}");
    }
    let both = ids(&list(s, "limit=100&callAttemptFilter=all").await);
    assert_eq!(both.len(), 9);
}

#[tokio::test]
async fn sort_orders_and_pagination_follow_r111_and_r112() {
    let w = world().await;
    let s = &w.s;
    let by_updated = ids(&list(s, "limit=100").await);
    assert_eq!(by_updated[0], w.t400, "default: updatedAt desc; the 400-s call ended last");
    assert_eq!(ids(&list(s, "limit=100&sortBy=updatedAt&sortOrder=desc").await), by_updated);
    let created_asc = ids(&list(s, "limit=100&sortBy=createdAt&sortOrder=asc").await);
    assert_eq!(
        created_asc,
        [w.happy, w.no_answer, w.busy, w.web, w.pinned, w.t45.clone(), w.t90.clone(), w.t400.clone()]
    );
    let longest = ids(&list(s, "limit=3&sortBy=callDuration").await);
    assert_eq!(longest, [w.t400, w.t90, w.t45]);
    let r = list(s, "limit=100&sortBy=avgLatency&sortOrder=desc").await;
    let lat: Vec<f64> = r.body["data"]["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .map(|l| l["turnLatencyMetrics"]["avgLatency"].as_f64().unwrap_or(0.0))
        .collect();
    assert!(lat.windows(2).all(|p| p[0] >= p[1]) && lat[0] > 0.0, "{lat:?}");

    let page = list(s, "").await;
    assert_eq!(
        page.body["data"]["pagination"],
        json!({"total": 8, "page": 1, "limit": 5, "hasMore": true, "totalPages": 2})
    );
    assert_eq!(ids(&page).len(), 5, "limit defaults to 5");
    let second = list(s, "page=2").await;
    assert_eq!(second.body["data"]["pagination"]["hasMore"], false);
    assert_eq!([ids(&page), ids(&second)].concat(), by_updated, "pages are slices of one order");
    assert_eq!(list(s, "page=3").await.body["data"]["logs"], json!([]));
    assert_eq!(list(s, "limit=9999").await.body["data"]["pagination"]["limit"], 500, "clamped, not refused");
    let config = &page.body["data"]["dispositionMetricsConfig"];
    assert_eq!(
        config,
        &json!([{"identifier": "call_resolved", "type": "BOOLEAN"}, {"identifier": "customer_sentiment", "type": "ENUM"},
                {"identifier": "score", "type": "INTEGER"}])
    );
}

#[tokio::test]
async fn list_rows_carry_seconds_metrics_maps_and_retry_links() {
    let w = world().await;
    let r = list(&w.s, "limit=100&callAttemptFilter=all").await;
    let rows = r.body["data"]["logs"].as_array().expect("logs").clone();
    let row = |id: &str| rows.iter().find(|l| l["callId"] == id).cloned().expect("row");
    let happy = row(&w.happy);
    let d = detail(&w.s, KEY, &w.happy).await;
    assert_eq!(happy["duration"], d["duration"]);
    assert!(
        happy["duration"].as_u64().is_some_and(|secs| (10..30).contains(&secs)),
        "seconds (R112): {}",
        happy["duration"]
    );
    assert_eq!(
        happy["dispositionMetrics"],
        json!({"call_resolved": "true", "customer_sentiment": "positive", "score": "0"})
    );
    assert_eq!(happy["versionNumber"], 1);
    assert_eq!(row(&w.pinned)["versionNumber"], 2, "R106");
    assert_eq!(row(&w.pinned)["versionId"], w.version_2.as_str());
    let parent = row(&w.no_answer);
    assert_eq!((parent["retryCallId"].clone(), parent["retryAttemptNumber"].clone()), (json!(w.retry), json!(0)));
    let child = row(&w.retry);
    assert_eq!((child["retryAttemptNumber"].clone(), child["retryCount"].clone()), (json!(1), json!(2)));
    assert_eq!(child["status"], "completed", "the retry ran its own scenario");
    assert_eq!(row(&w.web)["type"], "webcall");
}

#[tokio::test]
async fn bad_list_parameters_are_400_in_the_envelope() {
    let s = TestServer::start().await;
    for (query, name) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("callTypes=fax", "callTypes"),
        ("statusFilter=done", "statusFilter"),
        ("disconnectReasonFilter=hangup", "disconnectReasonFilter"),
        ("callAttemptFilter=first", "callAttemptFilter"),
        ("durationFilter=10-20", "durationFilter"),
        ("sortBy=name", "sortBy"),
        ("sortOrder=up", "sortOrder"),
        ("dateFrom=yesterday", "dateFrom"),
        ("dateTo=2026-13-45", "dateTo"),
        ("agentIds=nope", "agentIds"),
        ("campaignIds=123", "campaignIds"),
        ("versionFilter=v2", "versionFilter"),
    ] {
        let r = list(&s, query).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(r.body["status"], false, "{query}");
        assert!(r.error().starts_with(name), "{query}: {}", r.error());
    }
    assert_eq!(s.call(Method::GET, "/conversation", None, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn search_returns_owned_calls_including_retries_and_skips_the_rest() {
    let w = world().await;
    let s = &w.s;
    let other = agent(s, "sk_other_org", "other").await;
    let foreign = outbound(s, "sk_other_org", &other, PHONE, None).await;
    let body = json!({"callIds": [w.retry, "CALL-1767225600000-abcdef", foreign, w.happy, w.retry]});
    let r = s.post("/conversation/search", KEY, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["data"]["total"].clone(), r.body["data"]["requestedCount"].clone()), (json!(2), json!(5)));
    let logs = r.body["data"]["logs"].as_array().expect("logs");
    assert_eq!(logs.iter().map(|l| l["callId"].clone()).collect::<Vec<_>>(), [json!(w.retry), json!(w.happy)]);
    for l in logs {
        for absent in ["dispositionMetrics", "agentDispositionConfig", "versionNumber"] {
            assert!(l.get(absent).is_none(), "R114: {absent} is not enriched");
        }
        assert!(l["postCallAnalytics"].is_object());
    }
    let hundred: Vec<String> = (0..100).map(|i| format!("CALL-1767225600000-{i:06x}")).collect();
    let r = s.post("/conversation/search", KEY, json!({"callIds": hundred})).await;
    assert_eq!((r.status, r.body["data"]["requestedCount"].clone()), (StatusCode::OK, json!(100)));
    let too_many: Vec<String> = (0..101).map(|i| format!("CALL-1767225600000-{i:06x}")).collect();
    for bad in [
        json!({"callIds": too_many}),
        json!({"callIds": []}),
        json!({}),
        json!({"callIds": "CALL-1"}),
        json!({"callIds": [1]}),
    ] {
        let r = s.post("/conversation/search", KEY, bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.error().starts_with("callIds: "), "{}", r.error());
    }
}

#[tokio::test]
async fn body_cancel_stops_queued_or_running_calls_and_refuses_ended_ones() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "cancel").await;
    let running = outbound(&s, KEY, &agent, PHONE, None).await;
    s.advance(5.0).await;
    let r = s.post("/conversation/cancel", KEY, json!({"callId": running, "reason": "changed my mind"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"], json!({"callId": running, "status": "cancelled", "previousStatus": "in_progress"}));
    let d = detail(&s, KEY, &running).await;
    assert_eq!(d["status"], "cancelled");
    assert_eq!(
        log_types(&d).iter().rev().take(3).rev().cloned().collect::<Vec<_>>(),
        ["call_cancelled", "call_end", "call_recording"]
    );
    let again = s.post("/conversation/cancel", KEY, json!({"callId": running})).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "R118: already terminal");
    let pending = outbound(&s, KEY, &agent, PHONE, None).await;
    let r = s.post("/conversation/cancel", KEY, json!({"callId": pending})).await;
    assert_eq!(r.body["data"]["previousStatus"], "pending");
    s.advance(60.0).await;
    assert_eq!(detail(&s, KEY, &pending).await["status"], "cancelled", "a cancelled call never dials");
    let later = detail(&s, KEY, &running).await;
    assert_eq!(later["status"], "cancelled", "the script's own end does not end it again");
    assert_eq!(log_types(&later), log_types(&d), "no events after the cancel");
    let unknown = s.post("/conversation/cancel", KEY, json!({"callId": "CALL-1767225600000-abcdef"})).await;
    assert_eq!((unknown.status, unknown.error()), (StatusCode::NOT_FOUND, "No conversation found"));
    let foreign = s.post("/conversation/cancel", "sk_other_org", json!({"callId": pending})).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let missing = s.post("/conversation/cancel", KEY, json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn path_cancel_only_takes_queued_calls() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "queued").await;
    s.admin(Method::PUT, &format!("/concurrency?apiKey={KEY}"), Some(json!({"limit": 1}))).await;
    let first = outbound(&s, KEY, &agent, PHONE, None).await;
    let second = outbound(&s, KEY, &agent, PHONE, None).await;
    s.advance(0.0).await;
    assert_eq!(detail(&s, KEY, &second).await["status"], "in_queue");
    let r = s.post(&format!("/conversation/{first}/cancel"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), format!("Conversation with ID {first} is not in queue and cannot be cancelled"));
    let r = s.post(&format!("/conversation/{second}/cancel"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"], json!({"callId": second, "status": "cancelled"}));
    let record_id = detail(&s, KEY, &first).await["_id"].as_str().expect("_id").to_string();
    let r = s.post(&format!("/conversation/{record_id}/cancel"), KEY, json!({})).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "No conversation found"), "R119: a Mongo _id");
    run_to_end(&s, KEY, &first, 60).await;
    let r = s.post(&format!("/conversation/{first}/cancel"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn retries_list_the_whole_family_from_any_member_parent_first() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "retry").await;
    let root = outbound(&s, KEY, &agent, "+15005550001", None).await;
    s.advance(40.0).await;
    let retry = |id: String| {
        let s = &s;
        async move {
            let r = s.admin(Method::POST, &format!("/calls/{id}/retry?apiKey={KEY}"), None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.body["callId"].as_str().expect("callId").to_string()
        }
    };
    let first = retry(root.clone()).await;
    let r = s.admin(Method::POST, &format!("/calls/{first}/retry?apiKey={KEY}"), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "still ringing: {}", r.text);
    s.advance(40.0).await;
    let again = s.admin(Method::POST, &format!("/calls/{root}/retry?apiKey={KEY}"), None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "already retried: {}", again.text);
    let second = retry(first.clone()).await;
    s.advance(40.0).await;
    for member in [&root, &first, &second] {
        for path in [format!("/conversation/{member}/retries"), format!("/conversation/logs/{member}/retries")] {
            let r = s.get(&path, KEY).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
            let fam: Vec<(Value, Value)> = r.body["data"]["retries"]
                .as_array()
                .expect("retries")
                .iter()
                .map(|c| (c["callId"].clone(), c["retryAttemptNumber"].clone()))
                .collect();
            assert_eq!(fam, [(json!(root), json!(0)), (json!(first), json!(1)), (json!(second), json!(2))], "{path}");
        }
    }
    let rows = s.get(&format!("/conversation/{root}/retries"), KEY).await;
    assert!(rows.body["data"]["retries"][0].get("agentDispositionConfig").is_some(), "list-row shape");
    assert_eq!(rows.body["data"]["retries"][2]["retryCount"], 3);
    // R117: another key's call is the spec's 403, an unknown one 404.
    let foreign = s.get(&format!("/conversation/{root}/retries"), "sk_other_org").await;
    let unknown = s.get("/conversation/CALL-1767225600000-abcdef/retries", KEY).await;
    assert_eq!((unknown.status, unknown.error()), (StatusCode::NOT_FOUND, "No conversation found"));
    let denied = "Access denied — the call belongs to a different organization.";
    assert_eq!((foreign.status, foreign.error()), (StatusCode::FORBIDDEN, denied), "{}", foreign.text);
    let r = s.admin(Method::POST, "/calls/CALL-1767225600000-abcdef/retry?apiKey=sk_logs", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s.admin(Method::POST, &format!("/calls/{second}/retry?apiKey={KEY}&scenario=nope"), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(s.admin(Method::POST, &format!("/calls/{second}/retry"), None).await.status, StatusCode::BAD_REQUEST);
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Downloads `url` and checks it is a PCM16 8 kHz WAV of `channels`;
/// returns its length in ms.
async fn wav_ms(s: &TestServer, url: &str, channels: u16) -> u64 {
    let res = s.http.get(url).send().await.expect("GET");
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    assert_eq!(res.headers()["content-type"], "audio/wav");
    let bytes = res.bytes().await.expect("bytes");
    assert_eq!((&bytes[0..4], &bytes[8..16], &bytes[36..40]), (&b"RIFF"[..], &b"WAVEfmt "[..], &b"data"[..]));
    assert_eq!((le16(&bytes, 20), le16(&bytes, 22), le32(&bytes, 24), le16(&bytes, 34)), (1, channels, 8000, 16));
    let data = le32(&bytes, 40) as usize;
    assert_eq!(bytes.len(), 44 + data, "the header's length is the body's");
    assert_eq!(le32(&bytes, 4) as usize, 36 + data);
    (data as u64) * 1000 / u64::from(le32(&bytes, 28))
}

#[tokio::test]
async fn the_recording_url_downloads_a_wav_as_long_as_the_call() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "rec").await;
    let call = outbound(&s, KEY, &agent, PHONE, None).await;
    let d = run_to_end(&s, KEY, &call, 60).await;
    let answered = d["answeredAt"].as_str().and_then(atoms_mock::domain::time::parse_iso).expect("answeredAt");
    let ended = d["endedAt"].as_str().and_then(atoms_mock::domain::time::parse_iso).expect("endedAt");
    let talk_ms = u64::try_from(ended - answered).expect("positive");
    for path in [
        format!("/conversation/{call}/recording/download-url"),
        format!("/conversation/logs/{call}/recording/download-url"),
    ] {
        let r = s.get(&path, KEY).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.body["data"]["presignedUrl"], d["recordingUrl"]);
    }
    let url = d["recordingUrl"].as_str().expect("recordingUrl").to_string();
    assert!(url.starts_with(&format!("{}/_recordings/{call}.wav?sig=", s.root())), "{url}");
    assert_eq!(wav_ms(&s, &url, 1).await, talk_ms);
    let dual = d["recordingDualUrl"].as_str().expect("recordingDualUrl").to_string();
    assert_eq!(wav_ms(&s, &dual, 2).await, talk_ms);
    let recording_event =
        d["events"].as_array().expect("events").iter().find(|e| e["event_type"] == "call_recording").cloned();
    assert_eq!(recording_event.expect("call_recording")["recording_url"], url.as_str());

    let forged = url.split("?sig=").next().map(|u| format!("{u}?sig=000000000000000000000000")).expect("url");
    for (bad, status) in [
        (forged, StatusCode::FORBIDDEN),
        (url.split('?').next().expect("path").to_string(), StatusCode::FORBIDDEN),
        (format!("{}/_recordings/CALL-1767225600000-abcdef.wav?sig=x", s.root()), StatusCode::FORBIDDEN),
        (format!("{}/_recordings/notes.txt", s.root()), StatusCode::NOT_FOUND),
    ] {
        let r = s.raw(Method::GET, &bad, None, None).await;
        assert_eq!(r.status, status, "{bad}");
        assert_eq!(r.body["status"], false, "{bad}: {}", r.text);
    }
}

#[tokio::test]
async fn recording_urls_need_a_call_id_and_a_recording() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "norec").await;
    let unanswered = outbound(&s, KEY, &agent, "+15005550001", None).await;
    let running = outbound(&s, KEY, &agent, PHONE, None).await;
    s.advance(40.0).await;
    let d = detail(&s, KEY, &unanswered).await;
    assert!(d["recordingUrl"].is_null());
    let none = s.get(&format!("/conversation/{unanswered}/recording/download-url"), KEY).await;
    assert_eq!((none.status, none.error()), (StatusCode::NOT_FOUND, "No recording found for this call"));
    let record_id = d["_id"].as_str().expect("_id").to_string();
    let r = s.get(&format!("/conversation/{record_id}/recording/download-url"), KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid call ID format"), "R116: a Mongo _id");
    let unknown = s.get("/conversation/CALL-1767225600000-abcdef/recording/download-url", KEY).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let foreign = s.get(&format!("/conversation/{running}/recording/download-url"), "sk_other_org").await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let sig = atoms_mock::calls::recording_sig(&unanswered);
    let file = s.raw(Method::GET, &format!("{}/_recordings/{unanswered}.wav?sig={sig}", s.root()), None, None).await;
    assert_eq!(file.status, StatusCode::NOT_FOUND, "a signed URL of a call without audio");
}

#[tokio::test]
async fn agent_call_logs_are_paginated_newest_first_with_millisecond_durations() {
    let s = TestServer::start().await;
    let other = agent(&s, KEY, "other").await;
    let agent = agent(&s, KEY, "ms").await;
    let mut calls = Vec::new();
    for phone in [PHONE, "+15005550001", PHONE] {
        calls.push(outbound(&s, KEY, &agent, phone, None).await);
        s.advance(1.0).await;
    }
    outbound(&s, KEY, &other, PHONE, None).await;
    s.advance(60.0).await;
    let r = s.get(&format!("/agent/{agent}/call-logs?page=1&offset=2"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["success"], true, "R008: success, not status");
    let data = &r.body["data"];
    assert_eq!(
        (data["totalCount"].clone(), data["page"].clone(), data["offset"].clone()),
        (json!(3), json!(1), json!(2))
    );
    let rows = data["callLogs"].as_array().expect("callLogs");
    assert_eq!(rows.iter().map(|c| c["callId"].clone()).collect::<Vec<_>>(), [json!(calls[2]), json!(calls[1])]);
    let d = detail(&s, KEY, &calls[2]).await;
    let answered = d["answeredAt"].as_str().and_then(atoms_mock::domain::time::parse_iso).expect("answeredAt");
    let ended = d["endedAt"].as_str().and_then(atoms_mock::domain::time::parse_iso).expect("endedAt");
    assert_eq!(rows[0]["callDuration"], ended - answered, "R039: milliseconds");
    assert_eq!(rows[0]["callStatus"], "completed");
    assert_eq!((rows[0]["callType"].clone(), rows[0]["toNumber"].clone()), (json!("telephony_outbound"), json!(PHONE)));
    assert_eq!(rows[1]["callDuration"], 0);
    let page2 = s.get(&format!("/agent/{agent}/call-logs?page=2&offset=2"), KEY).await;
    assert_eq!(page2.body["data"]["callLogs"][0]["callId"], calls[0].as_str());
    let defaults = s.get(&format!("/agent/{agent}/call-logs"), KEY).await;
    assert_eq!((defaults.body["data"]["page"].clone(), defaults.body["data"]["offset"].clone()), (json!(1), json!(10)));
    // The spec documents only 200: logs are filtered by agent id, so an
    // unknown or malformed id is an empty page, and a bad page is page 1.
    for path in ["/agent/0123456789abcdef01234567/call-logs", "/agent/0/call-logs"] {
        let unknown = s.get(path, KEY).await;
        assert_eq!((unknown.status, unknown.body["data"]["totalCount"].clone()), (StatusCode::OK, json!(0)), "{path}");
    }
    let foreign = s.get(&format!("/agent/{agent}/call-logs"), "sk_other_org").await;
    assert_eq!(foreign.body["data"]["callLogs"], json!([]), "another organization sees nothing");
    let bad = s.get(&format!("/agent/{agent}/call-logs?page=x&offset=-3"), KEY).await;
    assert_eq!(
        (bad.status, bad.body["data"]["page"].clone(), bad.body["data"]["offset"].clone()),
        (StatusCode::OK, json!(1), json!(10))
    );
}

#[tokio::test]
async fn unknown_and_foreign_call_logs_are_404() {
    let s = TestServer::start().await;
    let agent = agent(&s, KEY, "mine").await;
    let call = outbound(&s, KEY, &agent, PHONE, None).await;
    assert_eq!(s.get(&format!("/conversation/{call}"), "sk_other_org").await.status, StatusCode::NOT_FOUND);
    let r = s.get("/conversation/CALL-1767225600000-abcdef", KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "No conversation found"));
}
