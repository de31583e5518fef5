//! Campaigns and audiences (BEHAVIOR §H, §I) driven on the virtual clock:
//! scheduling, dialling through the call engine, retries 15 minutes apart,
//! pause and resume, exports, and every validation message.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestServer};

/// `2026-01-01T00:00:00Z` plus `secs`, as epoch ms.
fn at(secs: i64) -> i64 {
    1_767_225_600_000 + secs * 1000
}

fn ms(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("timestamp expected, got {v}"));
    let dt = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).expect("iso");
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).expect("ms")
}

/// Rents a US number for `key` and returns its product id: a campaign's
/// `phoneNumberIds` must name the organization's own numbers.
pub(crate) async fn product(s: &TestServer, key: &str) -> String {
    crate::account::rent_number(s, key, "US").await
}

/// `POST /audience` as multipart with `fields` and, if given, `csv` as `file`.
async fn upload(s: &TestServer, key: &str, fields: &[(&str, &str)], csv: Option<&str>) -> Reply {
    upload_to(&s.http, &s.base(), key, fields, csv).await
}

/// [`upload`] to the server at `base` (`http://…/atoms/v1`), reached with `http`.
pub(crate) async fn upload_to(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    fields: &[(&str, &str)],
    csv: Option<&str>,
) -> Reply {
    let b = "----atomsmockboundary";
    let mut body = String::new();
    for (k, v) in fields {
        body += &format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n");
    }
    if let Some(c) = csv {
        body += &format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n{c}\r\n"
        );
    }
    body += &format!("--{b}--\r\n");
    let res = http
        .post(format!("{base}/audience"))
        .bearer_auth(key)
        .header("content-type", format!("multipart/form-data; boundary={b}"))
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = res.status();
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = res.text().await.expect("body");
    Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), text, content_type }
}

/// Uploads `csv` as the audience "Customers" (phone column `phone`); returns its id.
pub(crate) async fn audience(s: &TestServer, key: &str, csv: &str) -> String {
    let r = upload(s, key, &[("name", "Customers"), ("phoneNumberColumnName", "phone")], Some(csv)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"]["_id"].as_str().expect("_id").to_string()
}

/// Creates a campaign from `body`; returns its id.
pub(crate) async fn new_campaign(s: &TestServer, key: &str, body: Value) -> String {
    let r = s.post("/campaign", key, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["data"]["_id"].as_str().expect("_id").to_string()
}

/// `GET /campaign/{id}` data.
pub(crate) async fn campaign(s: &TestServer, key: &str, id: &str) -> Value {
    let r = s.get(&format!("/campaign/{id}"), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"].clone()
}

async fn call(s: &TestServer, key: &str, call_id: &str) -> Value {
    let r = s.get(&format!("/conversation/{call_id}"), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"].clone()
}

async fn by_member(s: &TestServer, key: &str, id: &str) -> Value {
    let r = s.get(&format!("/campaign/{id}/export/by-audience-member"), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// Asserts status and the three counters (R169).
async fn expect(s: &TestServer, key: &str, id: &str, status: &str, called: u64, connected: u64) -> Value {
    let d = campaign(s, key, id).await;
    assert_eq!(d["campaign"]["status"], status, "{d}");
    assert_eq!(
        d["metrics"],
        json!({"total_participants": 6, "contacts_called": called, "contacts_connected": connected})
    );
    d
}

/// Every member's call ids, from the export.
fn attempts_of(export: &Value) -> Vec<Vec<String>> {
    export["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| {
            let mut v: Vec<String> = m["originalCall"]["callId"].as_str().map(str::to_string).into_iter().collect();
            v.extend(
                m["retryAttempts"]
                    .as_array()
                    .expect("retries")
                    .iter()
                    .map(|a| a["callId"].as_str().expect("id").to_string()),
            );
            v
        })
        .collect()
}

const SIX: &str = "phone,name,scenario\n\
+15551000001,Ann,happy-path\n\
+15551000002,Bob,no-answer|no-answer|happy-path\n\
+15551000003,Cid,busy|no-answer\n\
+15551000004,Dee,failed\n\
+15551000005,Eve,voicemail\n\
15551000006,Fay,\n";

#[tokio::test]
async fn a_scheduled_campaign_dials_retries_every_fifteen_minutes_and_completes() {
    let (s, key) = (TestServer::start().await, "sk_campaign_run");
    let agent = s.create_agent(key, "Collector").await;
    let aud = audience(&s, key, SIX).await;
    let number = product(&s, key).await;
    let body = json!({"name": "January", "agentId": agent, "audienceId": aud, "scheduledAt": "2026-01-01T01:00:00.000Z",
                      "maxRetries": 2, "retryDelay": 15, "phoneNumberIds": [number]});
    let r = s.post("/campaign", key, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let d = &r.body["data"];
    assert_eq!((d["status"].as_str(), d["participantsCount"].as_u64()), (Some("scheduled"), Some(6)));
    assert_eq!(
        (d["maxRetries"].as_u64(), d["retryDelay"].as_u64(), d["retryAttempts"].as_u64()),
        (Some(2), Some(15), Some(0))
    );
    assert_eq!((d["agentId"].as_str(), d["audienceId"].as_str()), (Some(agent.as_str()), Some(aud.as_str())));
    let id = d["_id"].as_str().expect("_id").to_string();

    s.advance(3599.0).await;
    expect(&s, key, &id, "scheduled", 0, 0).await;
    assert_eq!(attempts_of(&by_member(&s, key, &id).await), vec![Vec::<String>::new(); 6], "creating never dials");

    s.advance(1.0).await;
    let d = expect(&s, key, &id, "running", 6, 0).await;
    assert_eq!(d["campaign"]["agent"]["name"], "Collector");
    assert_eq!(d["campaign"]["audience"], json!({"_id": aud, "name": "Customers"}));
    assert_eq!(d["events"][0]["eventAction"], "campaign_started");
    assert_eq!(d["events"][0]["triggerSource"], "system_scheduler");

    s.advance(5.0 * 60.0).await; // 01:05: first attempts over
    let d = expect(&s, key, &id, "running", 6, 3).await;
    assert_eq!(d["campaign"]["retryAttempts"], 0);

    s.advance(11.0 * 60.0).await; // 01:16: first retries placed (and the short ones over)
    let d = expect(&s, key, &id, "running", 6, 3).await;
    assert_eq!(d["campaign"]["retryAttempts"], 3);

    s.advance(19.0 * 60.0).await; // 01:35: second retries over, everyone done
    let d = expect(&s, key, &id, "completed", 6, 4).await;
    assert_eq!(d["campaign"]["retryAttempts"], 6);
    let actions: Vec<&str> =
        d["events"].as_array().expect("events").iter().filter_map(|e| e["eventAction"].as_str()).collect();
    assert_eq!(actions, ["campaign_started", "campaign_completed"]);

    let export = by_member(&s, key, &id).await;
    assert_eq!((export["campaign"].as_str(), export["totalAudienceMembers"].as_u64()), (Some("January"), Some(6)));
    let families = attempts_of(&export);
    let counts: Vec<usize> = families.iter().map(Vec::len).collect();
    assert_eq!(counts, [1, 3, 3, 3, 1, 1]);
    let finals: Vec<&str> =
        export["data"].as_array().expect("data").iter().filter_map(|m| m["finalStatus"].as_str()).collect();
    assert_eq!(finals, ["completed", "completed", "no_answer", "failed", "completed", "completed"]);
    assert_eq!(export["data"][1]["audienceMemberData"]["name"], "Bob");
    assert_eq!(export["data"][5]["phoneNumber"], "15551000006");

    let expected_status = [
        vec!["completed"],
        vec!["no_answer", "no_answer", "completed"],
        vec!["failed", "no_answer", "no_answer"],
        vec!["failed", "failed", "failed"],
        vec!["completed"],
        vec!["completed"],
    ];
    for (m, family) in families.iter().enumerate() {
        let mut prev: Option<Value> = None;
        for (n, cid) in family.iter().enumerate() {
            let c = call(&s, key, cid).await;
            assert_eq!(c["status"], expected_status[m][n], "member {m} attempt {n}");
            assert_eq!(c["campaignId"], id.as_str());
            assert_eq!(c["retryAttemptNumber"], n as u64);
            assert_eq!(c["retryCount"], family.len() as u64, "retryCount counts the family");
            assert_eq!(c["type"], "telephony_outbound");
            assert!(c["to"].as_str().expect("to").starts_with("+1555100000"));
            assert!(
                c["variables"]["name"].is_string() && c["variables"].get("scenario").is_none(),
                "{}",
                c["variables"]
            );
            let ended = c["events"].as_array().expect("events").iter().any(|e| e["event_type"] == "call_end");
            assert!(ended, "every campaign call has its call_end event");
            match &prev {
                None => assert_eq!(ms(&c["createdAt"]), at(3600), "first attempts dial at scheduledAt"),
                Some(p) => {
                    assert_eq!(p["retryCallId"], cid.as_str(), "the parent links to its retry");
                    assert_eq!(
                        ms(&c["createdAt"]) - ms(&p["endedAt"]),
                        15 * 60_000,
                        "retries wait retryDelay after the end"
                    );
                }
            }
            prev = Some(c);
        }
        assert_eq!(prev.expect("a call")["retryCallId"], Value::Null);
    }
    let bob = call(&s, key, &families[1][2]).await;
    assert_eq!(bob["scenario"], "happy-path");
    assert!(!bob["transcript"].as_array().expect("transcript").is_empty(), "the answered retry talked");

    let r = s.get(&format!("/campaign/{id}/export/by-audience-member?format=csv"), key).await;
    assert!(r.content_type.starts_with("text/csv"), "{}", r.content_type);
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines.len(), 7);
    assert!(
        lines[0].starts_with("audienceMemberId,phoneNumber,phone,name,scenario,totalAttempts,finalStatus"),
        "{}",
        lines[0]
    );
    assert!(lines[2].contains(",3,completed,") && lines[2].contains(&families[1][0]), "{}", lines[2]);
    let r = s.get(&format!("/campaign/{id}/logs/export"), key).await;
    assert!(r.content_type.starts_with("text/csv"));
    assert_eq!(r.text.lines().count(), 1 + 12, "one row per attempt");
}

/// A server with two call slots and, for `key`, a draft campaign `name`
/// over five members (`<prefix>1` … `<prefix>5`) on one rented number;
/// returns the server and the campaign id.
async fn five_member_campaign(key: &str, prefix: &str, name: &str) -> (TestServer, String) {
    let config = atoms_mock::Config { concurrency_limit: 2, ..atoms_mock::Config::for_tests() };
    let s = TestServer::with_config(config).await;
    let agent = s.create_agent(key, name).await;
    let csv: String = std::iter::once("phone,name\n".to_string())
        .chain(["A", "B", "C", "D", "E"].iter().enumerate().map(|(i, n)| format!("{prefix}0{},{n}\n", i + 1)))
        .collect();
    let aud = audience(&s, key, &csv).await;
    let body = json!({"name": name, "agentId": agent, "audienceId": aud, "phoneNumberIds": [product(&s, key).await]});
    let id = new_campaign(&s, key, body).await;
    (s, id)
}

#[tokio::test]
async fn pause_cancels_queued_calls_lets_live_ones_finish_and_resume_never_dials_twice() {
    let key = "sk_campaign_pause";
    let (s, id) = five_member_campaign(key, "+155520000", "Pausable").await;
    assert_eq!(campaign(&s, key, &id).await["campaign"]["status"], "draft");

    let r = s.post(&format!("/campaign/{id}/start"), key, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["data"]["message"], "Campaign is being processed");
    assert_eq!(r.body["data"]["campaignId"], id.as_str());
    assert_eq!(r.body["data"]["taskId"].as_str().map(str::len), Some(36), "a UUID");
    assert_eq!(campaign(&s, key, &id).await["campaign"]["status"], "processing", "not running when the 202 arrives");
    s.advance(1.0).await;
    let d = campaign(&s, key, &id).await;
    assert_eq!(d["campaign"]["status"], "running");
    assert_eq!(d["metrics"]["contacts_called"], 2, "two slots; three calls wait in the queue");

    let r = s.post(&format!("/campaign/{id}/pause"), key, json!({})).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({"status": true})));
    assert_eq!(campaign(&s, key, &id).await["campaign"]["status"], "running", "the pause is queued");
    s.advance(1.0).await;
    let d = campaign(&s, key, &id).await;
    assert_eq!(d["campaign"]["status"], "paused");
    assert_eq!(d["campaign"]["cancelledCallsCount"], 3);
    assert_eq!(ms(&d["campaign"]["pausedAt"]), at(2));

    s.advance(600.0).await;
    let d = campaign(&s, key, &id).await;
    assert_eq!(d["campaign"]["status"], "paused");
    assert_eq!(
        (d["metrics"]["contacts_called"].as_u64(), d["metrics"]["contacts_connected"].as_u64()),
        (Some(2), Some(2))
    );
    let logs = s.get(&format!("/campaign/{id}/logs/export"), key).await.text;
    assert_eq!(logs.lines().filter(|l| l.contains(",cancelled,")).count(), 3);
    assert_eq!(logs.lines().count(), 1 + 5, "no new dial while paused");

    for _ in 0..2 {
        let r = s.post(&format!("/campaign/{id}/start"), key, json!({})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "start is idempotent: {}", r.text);
    }
    s.advance(1.0).await;
    assert_eq!(campaign(&s, key, &id).await["campaign"]["status"], "running");
    s.advance(1200.0).await;
    let d = campaign(&s, key, &id).await;
    assert_eq!(d["campaign"]["status"], "completed");
    let actions: Vec<&str> =
        d["events"].as_array().expect("events").iter().filter_map(|e| e["eventAction"].as_str()).collect();
    assert_eq!(actions, ["campaign_started", "campaign_paused", "campaign_resumed", "campaign_completed"]);
    let export = by_member(&s, key, &id).await;
    let counts: Vec<usize> = attempts_of(&export).iter().map(Vec::len).collect();
    assert_eq!(counts, [1; 5], "nobody was dialled twice");
    let logs = s.get(&format!("/campaign/{id}/logs/export"), key).await.text;
    assert_eq!(logs.lines().count(), 1 + 8, "5 first dials, 3 cancelled by the pause re-dialled once");

    let r = s.post(&format!("/campaign/{id}/start"), key, json!({})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Campaign is completed and cannot be started"));
}

/// `POST /campaign/{id}/stop`, the SDK guide's `Campaign.stop` (inferred
/// details, see `domain::campaign`): queued calls are cancelled at once,
/// live ones finish, nobody is dialled again, then `completed`.
#[tokio::test]
async fn stop_cancels_queued_calls_lets_live_ones_finish_then_completes_and_dials_nobody_again() {
    let key = "sk_campaign_stop";
    let (s, id) = five_member_campaign(key, "+155521000", "Stoppable").await;
    let r = s.post(&format!("/campaign/{id}/stop"), key, json!({})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Campaign is draft and cannot be stopped"));

    s.post(&format!("/campaign/{id}/start"), key, json!({})).await;
    s.advance(1.0).await;
    assert_eq!(campaign(&s, key, &id).await["metrics"]["contacts_called"], 2, "two slots; three calls queue");
    let r = s.post(&format!("/campaign/{id}/stop"), key, json!({})).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({"status": true})));
    let d = campaign(&s, key, &id).await;
    assert_eq!(d["campaign"]["status"], "running", "two calls are still in progress");
    assert_eq!(d["campaign"]["cancelledCallsCount"], 3, "the queued calls are cancelled at once");
    let r = s.post(&format!("/campaign/{id}/stop"), key, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "a second stop changes nothing: {}", r.text);

    s.advance(1800.0).await;
    let d = campaign(&s, key, &id).await;
    assert_eq!(d["campaign"]["status"], "completed");
    assert_eq!(
        (d["metrics"]["contacts_called"].as_u64(), d["metrics"]["contacts_connected"].as_u64()),
        (Some(2), Some(2))
    );
    let actions: Vec<&str> =
        d["events"].as_array().expect("events").iter().filter_map(|e| e["eventAction"].as_str()).collect();
    assert_eq!(actions, ["campaign_started", "campaign_stopped", "campaign_completed"]);
    let logs = s.get(&format!("/campaign/{id}/logs/export"), key).await.text;
    assert_eq!(logs.lines().count(), 1 + 5, "nobody was dialled after the stop");
    assert_eq!(logs.lines().filter(|l| l.contains(",cancelled,")).count(), 3);

    let r = s.post(&format!("/campaign/{id}/stop"), key, json!({})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Campaign is completed and cannot be stopped"));
    let r = s.post(&format!("/campaign/{}/stop", "0".repeat(24)), key, json!({})).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Campaign not found"));
}

#[tokio::test]
async fn a_campaign_without_any_caller_number_fails_with_error_and_failed_at() {
    let (s, key) = (TestServer::start().await, "sk_campaign_fail");
    let agent = s.create_agent(key, "No number").await;
    let aud = audience(&s, key, "phone\n+15553000001\n").await;
    let id = new_campaign(&s, key, json!({"name": "Doomed", "agentId": agent, "audienceId": aud})).await;
    s.post(&format!("/campaign/{id}/start"), key, json!({})).await;
    s.advance(1.0).await;
    let c = &campaign(&s, key, &id).await["campaign"];
    assert_eq!(
        (c["status"].as_str(), c["error"].as_str()),
        (Some("failed"), Some("No phone number configured for this campaign"))
    );
    assert_eq!(ms(&c["failedAt"]), at(1));
}

#[tokio::test]
async fn campaign_create_validates_every_field() {
    let (s, key) = (TestServer::start().await, "sk_campaign_validate");
    let agent = s.create_agent(key, "V").await;
    let aud = audience(&s, key, "phone\n+15554000001\n").await;
    let other_aud = audience(&s, "sk_campaign_validate_other", "phone\n+15554000001\n").await;
    let other_agent = s.create_agent("sk_campaign_validate_other", "Theirs").await;
    let ok = json!({"name": "C", "agentId": agent, "audienceId": aud});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().expect("object").remove(k);
        b
    };
    let cases = [
        (without("name"), "name: Required"),
        (without("audienceId"), "audienceId: Required"),
        (without("agentId"), "agentId: Required"),
        (with("name", json!(7)), "name: Expected string, received number"),
        (with("agentId", json!("nope")), "Invalid agent id"),
        (with("audienceId", json!("nope")), "Invalid audience id"),
        (with("agentId", json!("60d0fe4f5311236168a109ca")), "Agent not found"),
        (with("agentId", json!(other_agent)), "Agent not found"),
        (with("audienceId", json!(other_aud)), "Audience not found"),
        (with("scheduledAt", json!("tomorrow")), "scheduledAt must be a valid ISO-8601 date-time"),
        (with("scheduledAt", json!("2026-01-01T00:00:00.000Z")), "scheduledAt must be in the future"),
        (with("maxRetries", json!(11)), "maxRetries must be an integer between 0 and 10"),
        (with("maxRetries", json!(-1)), "maxRetries must be an integer between 0 and 10"),
        (with("retryDelay", json!(0)), "retryDelay must be an integer between 1 and 1440"),
        (with("retryDelay", json!(1441)), "retryDelay must be an integer between 1 and 1440"),
        (with("retryDelay", json!("15")), "retryDelay must be an integer between 1 and 1440"),
        (with("phoneNumberIds", json!(["x"])), "phoneNumberIds must be an array of phone number ids"),
    ];
    for (body, msg) in cases {
        let r = s.post("/campaign", key, body.clone()).await;
        assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, msg), "{body}");
    }
    let r = s.post("/campaign", key, ok.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let d = &r.body["data"];
    assert_eq!(
        (d["status"].as_str(), d["maxRetries"].as_u64(), d["retryDelay"].as_u64()),
        (Some("draft"), Some(3), Some(15))
    );
    assert!(d.get("scheduledAt").is_none());
    let id = d["_id"].as_str().expect("id");

    let r = s.post(&format!("/campaign/{id}/pause"), key, json!({})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Campaign is draft and cannot be paused"));
    let r = s.call(Method::PATCH, &format!("/campaign/{id}"), Some(key), Some(json!({"agentId": other_agent}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no update route: the agent cannot change");
    let missing = "60d0fe4f5311236168a109ca";
    for (m, path) in [(Method::DELETE, ""), (Method::POST, "/start")] {
        let r = s.call(m, &format!("/campaign/{missing}{path}"), Some(key), None).await;
        assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Campaign not found"), "{path}");
    }
    // Where the spec documents only 400 (get, pause), an unknown id is 400.
    let unknown = format!("no campaign found for id {missing}");
    for (m, path) in [(Method::GET, ""), (Method::POST, "/pause")] {
        let r = s.call(m, &format!("/campaign/{missing}{path}"), Some(key), None).await;
        assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, unknown.as_str()), "{path}");
    }
    let r = s.get(&format!("/campaign/{id}"), "sk_campaign_validate_other").await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, format!("no campaign found for id {id}").as_str()));
    let r = s.get("/campaign/nope", key).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid campaign id"));
    let r = s.get(&format!("/campaign/{missing}/export/by-audience-member"), key).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Campaign not found"));
    let r = s.get(&format!("/campaign/{missing}/logs/export"), key).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, format!("no campaign found for id {missing}").as_str())
    );
}

#[tokio::test]
async fn campaign_list_pages_by_offset_filters_and_counts_the_organization() {
    let (s, key) = (TestServer::start().await, "sk_campaign_list");
    let agent = s.create_agent(key, "L").await;
    let aud = audience(&s, key, "phone\n+15555000001\n").await;
    for i in 0..7 {
        let mut b = json!({"name": format!("Wave {i}"), "agentId": agent, "audienceId": aud});
        if i % 2 == 0 {
            b["scheduledAt"] = json!("2026-02-01T00:00:00Z");
        }
        assert_eq!(s.post("/campaign", key, b).await.status, StatusCode::CREATED);
        s.advance(1.0).await;
    }
    let r = s.get("/campaign", key).await;
    let d = &r.body["data"];
    assert_eq!(d["campaigns"].as_array().map(Vec::len), Some(5), "offset defaults to 5");
    assert_eq!(d["campaigns"][0]["name"], "Wave 6", "newest first");
    assert_eq!(d["campaigns"][0]["agent"]["name"], "L");
    assert_eq!(d["pagination"], json!({"total": 7, "page": 1, "offset": 5, "hasMore": true, "totalPages": 2}));
    assert_eq!(d["totalCampaignCount"], 7);
    let d = s.get("/campaign?status=scheduled&offset=2&page=2&sortOrder=asc", key).await.body["data"].clone();
    assert_eq!(d["campaigns"][0]["name"], "Wave 4");
    assert_eq!((d["pagination"]["total"].as_u64(), d["totalCampaignCount"].as_u64()), (Some(4), Some(7)));
    let d = s.get("/campaign?search=wave%203", key).await.body["data"].clone();
    assert_eq!(d["pagination"]["total"], 1);
    let r = s.get("/campaign?status=active", key).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid status: active"));
    // The SDK's `Campaign.list(limit=50)` sends `limit`: a page size too, and it wins over `offset`.
    let d = s.get("/campaign?limit=50", key).await.body["data"].clone();
    assert_eq!((d["campaigns"].as_array().map(Vec::len), d["pagination"]["offset"].as_u64()), (Some(7), Some(50)));
    let d = s.get("/campaign?limit=3&offset=6", key).await.body["data"].clone();
    assert_eq!((d["campaigns"].as_array().map(Vec::len), d["pagination"]["offset"].as_u64()), (Some(3), Some(3)));
}

#[tokio::test]
async fn archive_and_audience_delete_are_blocked_while_a_campaign_is_active() {
    let (s, key) = (TestServer::start().await, "sk_campaign_guards");
    let agent = s.create_agent(key, "Guarded").await;
    let aud = audience(&s, key, "phone\n+15556000001\n").await;
    let id = new_campaign(&s, key, json!({"name": "Spring", "agentId": agent, "audienceId": aud})).await;
    let r = s.delete(&format!("/agent/{agent}/archive"), key).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.error(),
        "Agent is associated with the draft campaign \"Spring\". Complete or remove the campaign before archiving."
    );
    let r = s.delete(&format!("/audience/{aud}"), key).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, format!("can't delete audience, campaign with this audience {aud} exists").as_str())
    );
    let list = s.get("/audience", key).await.body["data"][0].clone();
    assert_eq!((list["memberCount"].as_u64(), list["hasCampaigns"].as_bool()), (Some(1), Some(true)));
    assert_eq!(list["campaigns"][0]["name"], "Spring");
    let r = s.post(&format!("/audience/{aud}/members"), key, json!({"members": [{"phone": "+15556000002"}]})).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, "Cannot modify members of an audience that is used by an active campaign")
    );

    let r = s.delete(&format!("/campaign/{id}"), key).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({"status": true})));
    assert_eq!(s.get(&format!("/campaign/{id}"), key).await.status, StatusCode::BAD_REQUEST, "deleted: unknown");
    let r = s.delete(&format!("/audience/{aud}"), key).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({"status": true, "data": []})));
    assert_eq!(s.delete(&format!("/agent/{agent}/archive"), key).await.status, StatusCode::OK);
}

#[tokio::test]
async fn audience_upload_enforces_the_csv_rules_with_their_messages() {
    let (s, key) = (TestServer::start().await, "sk_audience_upload");
    let base = [("name", "A"), ("phoneNumberColumnName", "phone")];
    let mut big = String::from("phone\n");
    for i in 0..10_001 {
        big += &format!("+1555{i:07}\n");
    }
    let dup =
        "Some phone numbers in your CSV already exist in this audience. Please remove duplicate entries and try again.";
    type Case<'a> = (Vec<(&'a str, &'a str)>, Option<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (base.to_vec(), None, "CSV file is required"),
        (vec![("phoneNumberColumnName", "phone")], Some("phone\n+15557000001\n"), "name: Required"),
        (vec![("name", "A")], Some("phone\n+15557000001\n"), "phoneNumberColumnName: Required"),
        (base.to_vec(), Some("phone\n+15557000001\n15557000001\n"), dup),
        (base.to_vec(), Some(big.as_str()), "Audience cannot exceed 10000 members"),
        (
            base.to_vec(),
            Some("phone,first name\n+15557000001,A\n"),
            "Invalid column name \"first name\": use only letters, numbers and underscores",
        ),
        (base.to_vec(), Some("phone,a,a\n+15557000001,x,y\n"), "Duplicate column name \"a\" in CSV"),
        (base.to_vec(), Some("mobile\n+15557000001\n"), "Phone number column \"phone\" not found in CSV"),
        (
            base.to_vec(),
            Some("phone\n(202) 555-0123\n"),
            "Invalid phone number \"(202) 555-0123\" in column \"phone\" at row 2",
        ),
    ];
    for (fields, csv, msg) in cases {
        let r = upload(&s, key, &fields, csv).await;
        assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, msg));
    }
    let r = s.post("/audience", key, json!({"name": "json"})).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "CSV file is required"));
    let r = upload(
        &s,
        key,
        &[("name", "A"), ("phoneNumberColumnName", "phone"), ("identifierColumnName", "Name"), ("description", "d")],
        Some("phone,Name\n+15557000001,Ann\n"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "200, not 201");
    let d = &r.body["data"];
    assert_eq!((d["identifierColumnName"].as_str(), d["description"].as_str()), (Some("Name"), Some("d")));
    assert_eq!(s.get(&format!("/audience/{}", d["_id"].as_str().expect("id")), key).await.body["data"]["name"], "A");
}

#[tokio::test]
async fn audience_members_page_search_add_and_delete_with_their_messages() {
    let (s, key, other) = (TestServer::start().await, "sk_audience_members", "sk_audience_members_other");
    let mut csv = String::from("phone,firstName\n");
    for i in 0..9990 {
        csv += &format!("+1555{i:07},{}\n", if i == 3 { "John" } else { "x" });
    }
    let aud = audience(&s, key, &csv).await;

    let r = s.get(&format!("/audience/{aud}/members?page=2&offset=3&limit=50"), key).await;
    let d = &r.body["data"];
    assert_eq!(d["members"].as_array().map(Vec::len), Some(3), "offset is the page size; limit is ignored");
    assert_eq!(d["members"][0]["data"]["firstName"], "John");
    assert_eq!(
        (d["totalCount"].as_u64(), d["totalPages"].as_u64(), d["hasMore"].as_bool()),
        (Some(9990), Some(3330), Some(true))
    );
    assert_eq!(
        s.get(&format!("/audience/{aud}/members"), key).await.body["data"]["members"].as_array().map(Vec::len),
        Some(5)
    );
    let r = s.get(&format!("/audience/{aud}/members?offset=0"), key).await;
    assert_eq!((r.status, r.body["status"].clone()), (StatusCode::BAD_REQUEST, json!("error")));
    let r = s.get("/audience/undefined/members", key).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::BAD_REQUEST, json!({"status": "error", "errors": ["Audience ID is required"]}))
    );
    let r = s.get("/audience/undefined", key).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Audience ID missing"));

    let add = |m: Value| json!({"members": m});
    let r = s.post(&format!("/audience/{aud}/members"), key, add(json!([{"firstName": "NoPhone"}]))).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Each member must have a phone field"));
    let fifteen: Vec<Value> = (0..15).map(|i| json!({"phone": format!("+1666{i:07}")})).collect();
    let r = s.post(&format!("/audience/{aud}/members"), key, add(json!(fifteen))).await;
    assert_eq!(
        r.error(),
        "Cannot add 15 members. You currently have 9990 members in this audience. The maximum limit is 10000 members. You can add up to 10 more members."
    );
    let r = s
        .post(
            &format!("/audience/{aud}/members"),
            key,
            add(json!([{"phone": "+15550000000"}, {"phone": "+17770000001", "firstName": "New"}])),
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!([{"message": "1 members added successfully", "data": {"added": 1, "skipped": 1}}])
    );

    let r = s.get(&format!("/audience/{aud}/members/search?query=JOHN"), key).await;
    let d = &r.body["data"];
    assert_eq!(
        (d["searchInfo"]["searchType"].as_str(), d["searchInfo"]["totalResults"].as_u64()),
        (Some("general"), Some(1))
    );
    let r = s.get(&format!("/audience/{aud}/members/search?firstName=new&phone=777"), key).await;
    assert_eq!(r.body["data"]["searchInfo"]["searchType"], "multiple");
    assert_eq!(r.body["data"]["searchInfo"]["searchFields"], json!(["firstName", "phone"]));
    let member = r.body["data"]["members"][0]["_id"].as_str().expect("member").to_string();
    let r = s.get(&format!("/audience/{aud}/members/search"), key).await;
    assert_eq!(r.error(), "At least one search parameter is required. Use 'query' for general search across all fields, or use field-specific searches like 'firstName=john' or 'phoneNumber=123456'.");
    let r = s
        .call(
            Method::DELETE,
            &format!("/audience/{aud}/members"),
            Some(key),
            Some(json!({"memberIds": [member, "60d0fe4f5311236168a109ca"]})),
        )
        .await;
    assert_eq!(r.body["data"], json!({"deletedCount": 1}));

    // Another organization: 404 everywhere but the members list, where the
    // spec has 403 (R180, R181, L-I1).
    assert_eq!(s.get(&format!("/audience/{aud}"), other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&format!("/audience/{aud}/members"), other).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.post(&format!("/audience/{aud}/members"), other, add(json!([{"phone": "+18880000001"}]))).await.status,
        StatusCode::NOT_FOUND
    );
    let r =
        s.call(Method::DELETE, &format!("/audience/{aud}/members"), Some(other), Some(json!({"memberIds": []}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&format!("/audience/{aud}/members/search?query=x"), other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&format!("/audience/{aud}"), other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get("/audience", other).await.body["data"], json!([]));
}

/// R035, R161, R174: `DELETE /agent/{id}/archive` and `POST /campaign` for
/// the same agent, sent together (64 agents, both requests of each in
/// flight at once), never both succeed: either the campaign is created
/// and the archive answers 409, or the agent is archived and the campaign
/// answers 400; and the stored state agrees with the answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_archive_racing_a_campaign_creation_never_leaves_an_archived_agent_with_an_active_campaign() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let key = "sk_archive_race";
    let aud = audience(&s, key, "phone\n+15551000001\n").await;
    let mut agents = Vec::new();
    for i in 0..64 {
        agents.push(s.create_agent(key, &format!("Racer {i}")).await);
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(agents.len() * 2));
    let mut races = Vec::new();
    for agent in &agents {
        let (s1, b1, a1) = (std::sync::Arc::clone(&s), std::sync::Arc::clone(&start), agent.clone());
        let archive = tokio::spawn(async move {
            b1.wait().await;
            s1.delete(&format!("/agent/{a1}/archive"), key).await
        });
        let (s2, b2, body) = (
            std::sync::Arc::clone(&s),
            std::sync::Arc::clone(&start),
            json!({"name": "Race", "agentId": agent, "audienceId": aud}),
        );
        let create = tokio::spawn(async move {
            b2.wait().await;
            s2.post("/campaign", key, body).await
        });
        races.push((agent.clone(), archive, create));
    }
    let mut outcomes = (0, 0);
    for (agent, archive, create) in races {
        let (archive, create) = (archive.await.expect("archive task"), create.await.expect("create task"));
        let archived = s.get(&format!("/agent/{agent}"), key).await.body["data"]["archived"] == true;
        match (archive.status, create.status) {
            (StatusCode::OK, StatusCode::BAD_REQUEST) => {
                assert_eq!(create.error(), "Agent is archived and cannot initiate calls");
                assert!(archived, "{agent}: the archive answered 200");
                outcomes.0 += 1;
            }
            (StatusCode::CONFLICT, StatusCode::CREATED) => {
                assert!(archive.error().starts_with("Agent is associated with the draft campaign"), "{}", archive.text);
                assert!(!archived, "{agent}: the archive answered 409");
                outcomes.1 += 1;
            }
            (a, c) => panic!("{agent}: archive {a} and campaign {c} must exclude each other"),
        }
    }
    let listed = s.get("/campaign", key).await;
    assert_eq!(listed.body["data"]["totalCampaignCount"], outcomes.1, "one campaign per race it won: {}", listed.text);
    println!("archive first: {}, campaign first: {}", outcomes.0, outcomes.1);
}
