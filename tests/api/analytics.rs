//! The Analytics tag (`/analytics/*`, 18 operations) computed from the
//! organization's own calls on the virtual clock: a fresh organization's
//! zeros, a scripted campaign against figures worked out by hand, the
//! figures against `GET /conversation` for the same filters, live counts,
//! per-call details, bad parameters, and identical answers under one seed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::{detail, outbound, run_to_end};
use crate::campaigns::{audience, new_campaign, product};
use crate::helpers::TestServer;

/// Scenarios with exact talk times: a pause of `ms - 500` (the timeline
/// adds 500 ms after the last step), rung for 2 s.
const TALKS: [(&str, u64, f64); 3] = [("talk-20s", 20_000, 0.2), ("talk-90s", 90_000, 0.5), ("talk-6m", 360_000, 1.5)];

/// A fixtures directory adding [`TALKS`]; written once per process (tests
/// run in parallel and load it concurrently).
fn fixtures() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("atoms-mock-analytics-{}", std::process::id()));
        let sdir = dir.join("scenarios");
        std::fs::create_dir_all(&sdir).expect("mkdir");
        for (name, ms, cost) in TALKS {
            let body = json!({"name": name, "outcome": "completed", "ringSeconds": 2, "cost": cost,
                              "turns": [{"pause": {"ms": ms - 500}}]});
            std::fs::write(sdir.join(format!("{name}.json")), body.to_string()).expect("write");
        }
        dir
    })
    .clone()
}

async fn server() -> TestServer {
    TestServer::with_config(atoms_mock::Config { fixtures: Some(fixtures()), ..atoms_mock::Config::for_tests() }).await
}

/// `data` of `GET /analytics/<op>`, which must answer 200 `success: true`.
async fn data(s: &TestServer, key: &str, op: &str) -> Value {
    let r = s.get(&format!("/analytics/{op}"), key).await;
    assert_eq!(r.status, StatusCode::OK, "{op}: {}", r.text);
    assert_eq!(r.body["success"], true, "{op}: {}", r.text);
    r.body["data"].clone()
}

/// `v` with every number as a float, so `10` and `10.0` compare equal.
fn norm(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        other => other.clone(),
    }
}

#[track_caller]
fn same(actual: &Value, expected: impl Into<Value>) {
    let expected: Value = expected.into();
    assert_eq!(norm(actual), norm(&expected), "\nactual:   {actual}\nexpected: {expected}");
}

/// The ranged operations that take the common filters.
const RANGED: [&str; 12] = [
    "dashboard",
    "summary",
    "call-volume-timeseries",
    "call-outcomes-timeseries",
    "pickup-rate-by-number",
    "phone-number-trends",
    "hourly-performance",
    "duration-stats",
    "weekly-trends",
    "agent-performance",
    "attempt-cohort",
    "call-counts-by-day",
];

/// Every operation's path with a query that makes it answer.
fn every_operation(day: &str) -> Vec<String> {
    let mut ops: Vec<String> = RANGED.iter().map(|o| (*o).to_string()).collect();
    ops.extend([
        "call-counts-log?limit=500".to_string(),
        "usage/timeseries".to_string(),
        format!("concurrency?date={day}&includeAgents=true"),
        format!("call-start-distribution?date={day}"),
        format!("daily-call-summary?date={day}"),
    ]);
    ops
}

/// Rule A7: a fresh organization answers zeros and empty
/// lists in the documented shape, never an error.
#[tokio::test]
async fn a_fresh_organization_answers_zeros_in_the_documented_shape() {
    let (s, key) = (TestServer::start().await, "sk_analytics_fresh");
    // The last 30 days up to now (2026-01-01T00:00:00Z), and the 30 before.
    let period = json!({"from": "2025-12-02", "to": "2026-01-01"});
    let trend = json!({"current": 0, "previous": 0, "percentChange": 0});
    let summary = data(&s, key, "summary").await;
    let org = summary["orgId"].as_str().expect("orgId").to_string();
    same(
        &summary,
        json!({"orgId": org, "totalCalls": trend, "pickupRate": trend, "avgDurationMs": trend, "medianDurationMs": 0,
               "totalDurationMs": trend, "uniqueUsersReached": trend, "totalCost": trend, "period": period,
               "previousPeriod": {"from": "2025-11-02", "to": "2025-12-02"}}),
    );
    let dash = data(&s, key, "dashboard").await;
    for (panel, op) in [
        ("summary", "summary"),
        ("callVolumeTimeseries", "call-volume-timeseries"),
        ("callOutcomesTimeseries", "call-outcomes-timeseries"),
        ("pickupRateByNumber", "pickup-rate-by-number"),
        ("hourlyPerformance", "hourly-performance"),
        ("durationStats", "duration-stats"),
    ] {
        assert_eq!(dash[panel], data(&s, key, op).await, "the dashboard's {panel} is {op}'s answer");
    }
    same(&data(&s, key, "call-volume-timeseries").await, json!({"orgId": org, "dataPoints": [], "period": period}));
    let zero = json!({"answered": 0, "noAnswer": 0, "failed": 0, "cancelled": 0, "total": 0});
    same(
        &data(&s, key, "call-outcomes-timeseries").await,
        json!({"orgId": org, "dataPoints": [], "totals": zero, "period": period}),
    );
    let hours = data(&s, key, "hourly-performance").await["hours"].clone();
    let expected: Vec<Value> = (0..24)
        .map(|h| json!({"hour": h, "totalCalls": 0, "answeredCalls": 0, "pickupRate": 0, "totalDurationMs": 0, "avgDurationMs": 0}))
        .collect();
    same(&hours, json!(expected));
    same(
        &data(&s, key, "duration-stats").await,
        json!({"orgId": org, "avgDurationMs": 0, "medianDurationMs": 0, "p90DurationMs": 0, "p95DurationMs": 0,
               "shortCallsPercent": 0, "longCallsPercent": 0, "totalCalls": 0, "totalDurationMs": 0, "period": period}),
    );
    for (op, list) in [
        ("pickup-rate-by-number", "numbers"),
        ("phone-number-trends", "trends"),
        ("weekly-trends", "weeks"),
        ("agent-performance", "agents"),
        ("call-counts-by-day", "callCountsByDay"),
    ] {
        assert_eq!(data(&s, key, op).await[list], json!([]), "{op}");
    }
    same(
        &data(&s, key, "attempt-cohort").await,
        json!({"orgId": org, "cohorts": [], "totalUniqueNumbers": 0, "maxAttemptsSeen": 0, "avgAttemptsToPickup": 0,
               "period": period}),
    );
    same(
        &data(&s, key, "call-counts-log").await,
        json!({"calls": [], "totalCalls": 0, "totalPages": 0, "currentPage": 1, "limit": 10}),
    );
    same(
        &data(&s, key, "usage/timeseries").await,
        json!({"dateRange": period, "dayWiseCredits": [], "totalCredits": 0}),
    );
    same(
        &data(&s, key, "concurrency?date=2026-01-01").await,
        json!({"date": "2026-01-01", "dataPoints": [], "peakConcurrent": 0, "avgConcurrent": 0, "totalMinutes": 0}),
    );
    assert_eq!(data(&s, key, "concurrency?date=2026-01-01&includeAgents=true").await["byAgent"], json!([]));
    same(
        &data(&s, key, "call-start-distribution?date=2026-01-01").await,
        json!({"date": "2026-01-01", "dataPoints": [], "totalCalls": 0}),
    );
    same(
        &data(&s, key, "daily-call-summary?date=2026-01-01").await,
        json!({"date": "2026-01-01", "totalCalls": 0, "answeredCalls": 0, "unansweredCalls": 0, "failedCalls": 0,
               "pickupRate": 0, "inProgressCalls": 0, "inQueueCalls": 0, "totalDurationMs": 0}),
    );
    let r = s.get("/analytics/conversation-details/CALL-1767225600000-abcdef", key).await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Call log not found"));
}

/// Five members dialled at 09:00 with up to two retries 15 minutes after
/// each unanswered attempt (R121). Per member, the scenario of each
/// attempt, and what it gives (talk time from connect, 2 s after dial):
///
/// | member | attempts | created (UTC) | ends |
/// |---|---|---|---|
/// | A `…01` | talk-20s | 09:00:00 | 09:00:22, 20 s, 0.2 cr |
/// | B `…02` | no-answer, talk-90s | 09:00:00, 09:15:30 | 09:00:30; 09:17:02, 90 s, 0.5 cr |
/// | C `…03` | busy, no-answer, talk-6m | 09:00:00, 09:15:01, 09:30:31 | 09:00:01; 09:15:31; 09:36:33, 360 s, 1.5 cr |
/// | D `…04` | no-answer ×3 | 09:00:00, 09:15:30, 09:31:00 | 09:00:30; 09:16:00; 09:31:30 |
/// | E `…05` | talk-90s | 09:00:00 | 09:01:32, 90 s, 0.5 cr |
///
/// So 10 calls: 4 answered (20, 90, 90, 360 s), 5 no answer, 1 failed
/// (busy); 2.7 credits; all on 2026-01-01 in hour 9.
const CAMPAIGN: &str = "phone,name,scenario\n\
+15552000001,A,talk-20s\n\
+15552000002,B,no-answer|talk-90s\n\
+15552000003,C,busy|no-answer|talk-6m\n\
+15552000004,D,no-answer\n\
+15552000005,E,talk-90s\n";

/// Runs [`CAMPAIGN`] for a new agent of `key` to its end (09:40); returns
/// the agent and campaign ids.
async fn run_campaign(s: &TestServer, key: &str) -> (String, String) {
    let agent = s.create_agent(key, "Collector").await;
    let aud = audience(s, key, CAMPAIGN).await;
    let body = json!({"name": "January", "agentId": agent, "audienceId": aud, "scheduledAt": "2026-01-01T09:00:00.000Z",
                      "maxRetries": 2, "retryDelay": 15, "phoneNumberIds": [product(s, key).await]});
    let campaign = new_campaign(s, key, body).await;
    s.advance(9.0 * 3600.0 + 40.0 * 60.0).await;
    let r = s.get(&format!("/campaign/{campaign}"), key).await;
    assert_eq!(r.body["data"]["campaign"]["status"], "completed", "{}", r.text);
    (agent, campaign)
}

#[tokio::test]
async fn analytics_after_a_scripted_campaign_equal_the_hand_computed_figures() {
    let (s, key) = (server().await, "sk_analytics_campaign");
    let (agent, campaign) = run_campaign(&s, key).await;
    let rented = s.get("/product/phone-numbers", key).await.body["data"][0]["attributes"]["phoneNumber"].clone();
    let line = format!("+{}", rented.as_str().expect("the rented number").trim_start_matches('+'));
    let q = "dateFrom=2026-01-01&dateTo=2026-01-01";
    let period = json!({"from": "2026-01-01", "to": "2026-01-01"});

    let summary = data(&s, key, &format!("summary?{q}")).await;
    let org = summary["orgId"].clone();
    let up = |v: f64| json!({"current": v, "previous": 0, "percentChange": if v == 0.0 { 0 } else { 100 }});
    same(
        &summary,
        json!({"orgId": org, "totalCalls": up(10.0), "pickupRate": up(40.0), "avgDurationMs": up(140_000.0),
               "medianDurationMs": 90_000, "totalDurationMs": up(560_000.0), "uniqueUsersReached": up(4.0),
               "totalCost": up(2.7), "period": period, "previousPeriod": {"from": "2025-12-31", "to": "2025-12-31"}}),
    );
    same(
        &data(&s, key, &format!("call-volume-timeseries?{q}")).await["dataPoints"],
        json!([{"date": "2026-01-01", "totalCalls": 10, "answeredCalls": 4, "noAnswerCalls": 5, "failedCalls": 1,
                "cancelledCalls": 0, "totalDurationMs": 560_000}]),
    );
    let totals = json!({"answered": 4, "noAnswer": 5, "failed": 1, "cancelled": 0, "total": 10});
    let outcomes = data(&s, key, &format!("call-outcomes-timeseries?{q}")).await;
    same(&outcomes["totals"], totals.clone());
    let mut day = totals;
    day["date"] = json!("2026-01-01");
    same(&outcomes["dataPoints"], json!([day]));
    same(
        &data(&s, key, &format!("pickup-rate-by-number?{q}")).await["numbers"],
        json!([{"phoneNumber": line, "totalCalls": 10, "answeredCalls": 4, "pickupRate": 40, "lastActiveDate": "2026-01-01"}]),
    );
    same(
        &data(&s, key, &format!("phone-number-trends?{q}")).await["trends"],
        json!([{"phoneNumber": line, "dataPoints": [{"date": "2026-01-01", "totalCalls": 10, "answeredCalls": 4, "pickupRate": 40}]}]),
    );
    let hours = data(&s, key, &format!("hourly-performance?{q}")).await["hours"].clone();
    same(
        &hours[9],
        json!({"hour": 9, "totalCalls": 10, "answeredCalls": 4, "pickupRate": 40, "totalDurationMs": 560_000, "avgDurationMs": 140_000}),
    );
    assert_eq!(hours.as_array().map(|h| h.iter().filter(|h| h["totalCalls"] != 0).count()), Some(1), "{hours}");
    same(
        &data(&s, key, &format!("duration-stats?{q}")).await,
        json!({"orgId": org, "avgDurationMs": 140_000, "medianDurationMs": 90_000, "p90DurationMs": 360_000,
               "p95DurationMs": 360_000, "shortCallsPercent": 25, "longCallsPercent": 25, "totalCalls": 4,
               "totalDurationMs": 560_000, "period": period}),
    );
    same(
        &data(&s, key, &format!("weekly-trends?{q}")).await["weeks"],
        json!([{"weekStart": "2025-12-29", "totalCalls": 10, "answeredCalls": 4, "pickupRate": 40, "avgDuration": 140,
                "medianDuration": 90, "p90Duration": 360, "shortCallsPercent": 25, "longCallsPercent": 25}]),
    );
    same(
        &data(&s, key, &format!("agent-performance?{q}")).await["agents"],
        json!([{"agentId": agent, "totalCalls": 10, "answeredCalls": 4, "pickupRate": 40, "avgDuration": 140, "totalCost": 2.7}]),
    );
    let cohort = data(&s, key, &format!("attempt-cohort?{q}")).await;
    same(
        &cohort["cohorts"],
        json!([
            {"attemptNumber": 1, "totalCalls": 5, "answeredCalls": 2, "pickupRate": 40, "cumulativeAnswered": 2, "cumulativeRate": 40, "marginalGain": 40},
            {"attemptNumber": 2, "totalCalls": 3, "answeredCalls": 1, "pickupRate": 33.33, "cumulativeAnswered": 3, "cumulativeRate": 60, "marginalGain": 20},
            {"attemptNumber": 3, "totalCalls": 2, "answeredCalls": 1, "pickupRate": 50, "cumulativeAnswered": 4, "cumulativeRate": 80, "marginalGain": 20},
        ]),
    );
    same(
        &json!([&cohort["totalUniqueNumbers"], &cohort["maxAttemptsSeen"], &cohort["avgAttemptsToPickup"]]),
        json!([5, 3, 1.75]),
    );
    same(
        &data(&s, key, &format!("call-counts-by-day?{q}")).await["callCountsByDay"],
        json!([{"day": "2026-01-01", "count": 10}]),
    );
    // Credit usage is the calls' 2.7 plus the 10-credit rental of the
    // campaign's number that morning (a ledger row, not a call).
    same(
        &data(&s, key, &format!("usage/timeseries?{q}")).await,
        json!({"dateRange": period, "dayWiseCredits": [{"date": "2026-01-01", "credits": 12.7}], "totalCredits": 12.7}),
    );
    let minutes = [
        ("09:00", 5),
        ("09:01", 1),
        ("09:15", 3),
        ("09:16", 1),
        ("09:17", 1),
        ("09:30", 1),
        ("09:31", 2),
        ("09:32", 1),
        ("09:33", 1),
        ("09:34", 1),
        ("09:35", 1),
        ("09:36", 1),
    ];
    let points: Vec<Value> = minutes.iter().map(|(m, c)| json!({"minute": m, "concurrentCalls": c})).collect();
    same(
        &data(&s, key, "concurrency?date=2026-01-01&includeAgents=true").await,
        json!({"date": "2026-01-01", "dataPoints": points, "peakConcurrent": 5, "avgConcurrent": 1.58, "totalMinutes": 12,
               "byAgent": [{"agentId": agent, "peakConcurrent": 5, "avgConcurrent": 1.58, "totalCalls": 10}]}),
    );
    same(
        &data(&s, key, "call-start-distribution?date=2026-01-01").await,
        json!({"date": "2026-01-01", "totalCalls": 10, "dataPoints": [
            {"minute": "09:00", "callCount": 5}, {"minute": "09:15", "callCount": 3},
            {"minute": "09:30", "callCount": 1}, {"minute": "09:31", "callCount": 1}]}),
    );
    same(
        &data(&s, key, "daily-call-summary?date=2026-01-01").await,
        json!({"date": "2026-01-01", "totalCalls": 10, "answeredCalls": 4, "unansweredCalls": 5, "failedCalls": 1,
               "pickupRate": 40, "inProgressCalls": 0, "inQueueCalls": 0, "totalDurationMs": 560_000}),
    );

    // Filters: the campaign is everything; another agent, web calls and
    // the day before are nothing; 09:15:00–09:30:59 holds B2, C2, D2, C3.
    let all = data(&s, key, &format!("summary?{q}")).await;
    assert_eq!(
        data(&s, key, &format!("summary?{q}&campaignId={campaign}&callType=outbound&agentId={agent}")).await,
        all
    );
    for f in ["agentId=65f1a2b3c4d5e6f708192a3b", "callType=webcall,inbound", "campaignId=65f1a2b3c4d5e6f708192a3b"] {
        same(&data(&s, key, &format!("summary?{q}&{f}")).await["totalCalls"]["current"], json!(0));
    }
    same(&data(&s, key, "summary?dateTo=2025-12-31").await["totalCalls"]["current"], json!(0));
    let window =
        data(&s, key, "call-outcomes-timeseries?dateFrom=2026-01-01T09:15:00Z&dateTo=2026-01-01T09:30:59.999Z").await;
    same(&window["totals"], json!({"answered": 2, "noAnswer": 2, "failed": 0, "cancelled": 0, "total": 4}));
    let ranked = data(&s, key, &format!("agent-performance?{q}&sortBy=pickupRate&sortOrder=asc&limit=1")).await;
    assert_eq!(ranked["agents"].as_array().map(Vec::len), Some(1));

    // The log: newest first, rendered from the call records.
    let log = data(&s, key, &format!("call-counts-log?{q}&limit=3&page=1")).await;
    same(&json!([&log["totalCalls"], &log["totalPages"], &log["currentPage"], &log["limit"]]), json!([10, 4, 1, 3]));
    let first = &log["calls"][0];
    let d3 = detail(&s, key, first["callId"].as_str().expect("callId")).await;
    assert_eq!(
        (d3["to"].as_str(), d3["retryAttemptNumber"].as_u64()),
        (Some("+15552000004"), Some(2)),
        "D's third attempt is the newest"
    );
    same(
        first,
        json!({"orgId": org, "callId": d3["callId"], "agentId": agent, "agentName": "Collector", "campaignId": campaign,
               "campaignName": "January", "callType": "outbound", "timestamp": "2026-01-01T09:31:00.000Z",
               "callDurationMs": 0, "callLatencyMs": 0, "costSpent": 0, "disconnectionReason": "dial_no_answer",
               "source": "campaign", "callStatus": "no_answer", "fromNumber": line, "toNumber": "+15552000004"}),
    );
    let c3 = &log["calls"][1];
    assert_eq!((c3["callStatus"].as_str(), c3["callDurationMs"].as_u64()), (Some("completed"), Some(360_000)));
    assert!(c3["recordingUrl"].as_str().is_some_and(|u| u.contains("/_recordings/")), "{c3}");
    let last = data(&s, key, &format!("call-counts-log?{q}&limit=3&page=4")).await;
    assert_eq!(last["calls"].as_array().map(Vec::len), Some(1));
}

/// The `GET /conversation` query that lists the calls an analytics query
/// counts (ended calls, every attempt), 500 at a time.
fn conversation_query(filters: &[(&str, String)]) -> String {
    let mut q = vec!["limit=500".to_string(), "callAttemptFilter=all".to_string()];
    for (k, v) in filters {
        let (k, v) = match *k {
            "agentId" => ("agentIds", v.clone()),
            "campaignId" => ("campaignIds", v.clone()),
            "callType" => (
                "callTypes",
                v.split(',')
                    .map(|t| format!("telephony_{t}").replace("telephony_webcall", "webcall"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            other => (other, v.clone()),
        };
        q.push(format!("{k}={v}"));
    }
    q.join("&")
}

/// The logs of `GET /conversation?<query>` (all of them fit one page).
async fn logs(s: &TestServer, key: &str, query: &str) -> Vec<Value> {
    let r = s.get(&format!("/conversation?{query}"), key).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    let logs = r.body["data"]["logs"].as_array().expect("logs").clone();
    assert_eq!(r.body["data"]["pagination"]["total"].as_u64(), Some(logs.len() as u64), "one page holds them all");
    logs
}

/// Two agents, two days: a campaign with retries, API calls of every
/// outcome (one cancelled while ringing), web calls; returns the agents
/// and the campaign.
async fn mixed_world(s: &TestServer, key: &str) -> (String, String, String) {
    let (a1, campaign) = run_campaign(s, key).await;
    let a2 = s.create_agent(key, "Support").await;
    let numbers = ["+14155550201", "+14155550202", "+14155550203"];
    for (i, scenario) in
        ["talk-20s", "no-answer", "busy", "failed", "talk-6m", "voicemail", "happy-path"].iter().enumerate()
    {
        let agent = if i % 2 == 0 { &a1 } else { &a2 };
        outbound(s, key, agent, numbers[i % 3], Some(scenario)).await;
    }
    let cancel = outbound(s, key, &a2, numbers[0], Some("talk-90s")).await;
    s.advance(1.0).await;
    let r = s.post("/conversation/cancel", key, json!({"callId": cancel})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for agent in [&a1, &a2] {
        let r = s
            .http
            .post(format!("{}/conversation/webcall", s.base()))
            .bearer_auth(key)
            .header("x-atoms-mock-scenario", "talk-90s")
            .json(&json!({"agentId": agent}))
            .send()
            .await
            .expect("webcall");
        assert_eq!(r.status(), StatusCode::OK);
    }
    s.advance(24.0 * 3600.0).await; // day two
    let id = outbound(s, key, &a2, numbers[1], Some("talk-90s")).await;
    outbound(s, key, &a1, numbers[2], Some("no-answer")).await;
    run_to_end(s, key, &id, 200).await;
    s.advance(60.0).await;
    (a1, a2, campaign)
}

/// Issue acceptance: the figures agree with `GET /conversation` for the
/// same filters (ended calls, `callAttemptFilter=all`; design note
/// "Agreement with GET /conversation").
#[tokio::test]
async fn figures_agree_with_get_conversation_for_the_same_filters() {
    let (s, key) = (server().await, "sk_analytics_agree");
    let (a1, a2, campaign) = mixed_world(&s, key).await;
    let wide = ("dateFrom", "2025-12-31T00:00:00Z".to_string());
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![wide.clone()],
        vec![wide.clone(), ("agentId", a1.clone())],
        vec![wide.clone(), ("agentId", format!("{a1},{a2}")), ("callType", "outbound".into())],
        vec![wide.clone(), ("campaignId", campaign.clone())],
        vec![wide.clone(), ("callType", "webcall".into())],
        vec![wide.clone(), ("agentId", a2.clone()), ("callType", "outbound,webcall".into())],
        vec![("dateFrom", "2026-01-01T09:15:00.000Z".into()), ("dateTo", "2026-01-01T23:59:59.999Z".into())],
        vec![("dateFrom", "2026-01-02T00:00:00.000Z".into())],
    ];
    let mut seen_nonzero = 0;
    for filters in cases {
        let aq: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let aq = aq.join("&");
        let cq = conversation_query(&filters);
        let ended = logs(&s, key, &format!("{cq}&statusFilter=completed,no_answer,failed,cancelled")).await;
        let count = |status: &str| ended.iter().filter(|l| l["status"] == status).count() as f64;
        let summary = data(&s, key, &format!("summary?{aq}")).await;
        let totals = data(&s, key, &format!("call-outcomes-timeseries?{aq}")).await["totals"].clone();
        same(
            &totals,
            json!({"answered": count("completed"), "noAnswer": count("no_answer"), "failed": count("failed"),
                   "cancelled": count("cancelled"), "total": ended.len()}),
        );
        assert_eq!(summary["totalCalls"]["current"].as_f64(), Some(ended.len() as f64), "{aq}");
        let cost: f64 = ended.iter().map(|l| l["callCost"].as_f64().unwrap_or(0.0)).sum();
        assert!(
            (summary["totalCost"]["current"].as_f64().expect("cost") - cost).abs() < 1e-9,
            "{aq}: {summary} vs {cost}"
        );
        let answered: Vec<&Value> = ended.iter().filter(|l| l["status"] == "completed").collect();
        let secs: f64 = answered.iter().map(|l| l["duration"].as_f64().unwrap_or(0.0)).sum();
        let ms = summary["totalDurationMs"]["current"].as_f64().expect("ms");
        assert!((ms - secs * 1000.0).abs() <= 500.0 * answered.len() as f64, "{aq}: {ms} ms vs {secs} s");
        let stats = data(&s, key, &format!("duration-stats?{aq}")).await;
        let short = logs(&s, key, &format!("{cq}&statusFilter=completed&durationFilter=0-30")).await.len() as u64;
        let long = logs(&s, key, &format!("{cq}&statusFilter=completed&durationFilter=5%2B")).await.len() as u64;
        let pct = |n: u64| {
            if answered.is_empty() {
                0.0
            } else {
                (n as f64 * 10_000.0 / answered.len() as f64).round() / 100.0
            }
        };
        same(&json!([&stats["shortCallsPercent"], &stats["longCallsPercent"]]), json!([pct(short), pct(long)]));
        let mut by_attempt: BTreeMap<u64, u64> = BTreeMap::new();
        for l in &ended {
            *by_attempt.entry(l["retryAttemptNumber"].as_u64().unwrap_or(0) + 1).or_default() += 1;
        }
        let cohorts = data(&s, key, &format!("attempt-cohort?{aq}")).await["cohorts"].clone();
        let got: BTreeMap<u64, u64> = cohorts
            .as_array()
            .expect("cohorts")
            .iter()
            .map(|c| (c["attemptNumber"].as_u64().unwrap_or(0), c["totalCalls"].as_u64().unwrap_or(0)))
            .collect();
        assert_eq!(got, by_attempt, "{aq}");
        let log = data(&s, key, &format!("call-counts-log?{aq}&limit=500")).await;
        let mut ids: Vec<&str> =
            log["calls"].as_array().expect("calls").iter().filter_map(|c| c["callId"].as_str()).collect();
        let mut want: Vec<&str> = ended.iter().filter_map(|l| l["callId"].as_str()).collect();
        ids.sort_unstable();
        want.sort_unstable();
        assert_eq!(ids, want, "{aq}");
        seen_nonzero += usize::from(!ended.is_empty());
    }
    assert!(seen_nonzero >= 7, "the cases must not be vacuous");
}

/// Rule A1: live calls count only in `daily-call-summary`, as
/// `inProgressCalls` and `inQueueCalls`.
#[tokio::test]
async fn live_calls_count_only_in_the_daily_summarys_live_counts() {
    let (s, key) = (server().await, "sk_analytics_live");
    let agent = s.create_agent(key, "Live").await;
    let r = s.admin(Method::PUT, &format!("/concurrency?apiKey={key}"), Some(json!({"limit": 1}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let first = outbound(&s, key, &agent, "+14155550301", Some("talk-90s")).await;
    outbound(&s, key, &agent, "+14155550302", Some("talk-20s")).await;
    let day = data(&s, key, "daily-call-summary?date=2026-01-01").await;
    same(&json!([&day["inProgressCalls"], &day["inQueueCalls"], &day["totalCalls"]]), json!([0, 2, 0]));
    s.advance(1.0).await;
    let day = data(&s, key, "daily-call-summary?date=2026-01-01").await;
    same(&json!([&day["inProgressCalls"], &day["inQueueCalls"], &day["totalCalls"]]), json!([1, 1, 0]));
    same(&data(&s, key, "summary").await["totalCalls"]["current"], json!(0));
    same(
        &data(&s, key, "daily-call-summary?date=2026-01-01&agentId=65f1a2b3c4d5e6f708192a3b").await["inQueueCalls"],
        json!(0),
    );
    run_to_end(&s, key, &first, 200).await;
    s.advance(60.0).await;
    let day = data(&s, key, "daily-call-summary?date=2026-01-01").await;
    same(
        &day,
        json!({"date": "2026-01-01", "totalCalls": 2, "answeredCalls": 2, "unansweredCalls": 0, "failedCalls": 0,
               "pickupRate": 100, "inProgressCalls": 0, "inQueueCalls": 0, "totalDurationMs": 110_000}),
    );
}

#[tokio::test]
async fn conversation_details_replay_the_calls_transcript_and_events() {
    let (s, key) = (TestServer::start().await, "sk_analytics_details");
    let agent = s.create_agent(key, "Helper").await;
    let id = outbound(&s, key, &agent, "+14155550401", None).await;
    let log = run_to_end(&s, key, &id, 200).await;
    let d = data(&s, key, &format!("conversation-details/{id}")).await;
    assert_eq!((d["callId"].as_str(), d["agentName"].as_str()), (Some(id.as_str()), Some("Helper")));
    assert_eq!(d["workflowType"], "single_prompt");
    assert_eq!((d["fromNumber"].clone(), d["toNumber"].clone()), (log["from"].clone(), log["to"].clone()));
    let lines: Vec<(Value, Value)> = log["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .map(|l| (l["role"].clone(), l["content"].clone()))
        .collect();
    let got: Vec<(Value, Value)> = d["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .map(|l| (l["role"].clone(), l["text"].clone()))
        .collect();
    assert!(!got.is_empty());
    assert_eq!(got, lines);
    let kinds: Vec<&str> =
        d["events"].as_array().expect("events").iter().filter_map(|e| e["eventType"].as_str()).collect();
    let logged: Vec<&str> =
        log["events"].as_array().expect("events").iter().filter_map(|e| e["event_type"].as_str()).collect();
    assert_eq!(kinds, logged);
    assert_eq!(kinds.first(), Some(&"call_start"));
    assert!(kinds.contains(&"call_end"));
    assert!(d["callDurationMs"]
        .as_f64()
        .is_some_and(|ms| (ms / 1000.0 - log["duration"].as_f64().unwrap_or(0.0)).abs() <= 0.5));

    let r = s.get(&format!("/analytics/conversation-details/{id}"), "sk_analytics_other_org").await;
    assert_eq!((r.status, r.error()), (StatusCode::NOT_FOUND, "Call log not found"));
    let r = s.get("/analytics/conversation-details/not-a-call", key).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid call ID format"));
}

#[tokio::test]
async fn bad_query_parameters_get_a_400_naming_them() {
    let (s, key) = (TestServer::start().await, "sk_analytics_bad");
    for (path, message) in [
        ("summary?dateFrom=soon", "dateFrom: Invalid ISO date-time 'soon'"),
        ("dashboard?dateTo=2026-02-30", "dateTo: Invalid ISO date-time '2026-02-30'"),
        ("summary?dateFrom=2026-01-02&dateTo=2026-01-01", "dateFrom: must not be after dateTo"),
        ("weekly-trends?agentId=65f1a2b3c4d5e6f708192a3b,x", "agentId: Invalid id 'x'"),
        ("attempt-cohort?campaignId=nope", "campaignId: Invalid id 'nope'"),
        (
            "call-volume-timeseries?callType=fax",
            "callType: Invalid enum value. Expected 'inbound' | 'outbound' | 'webcall', received 'fax'",
        ),
        ("usage/timeseries?dateFrom=x", "dateFrom: Invalid ISO date-time 'x'"),
        ("agent-performance?sortOrder=up", "sortOrder: Invalid enum value. Expected 'asc' | 'desc', received 'up'"),
        ("agent-performance?limit=0", "limit: Number must be greater than or equal to 1"),
        ("call-counts-log?page=first", "page: Expected a positive integer, received 'first'"),
        ("concurrency", "date: Required"),
        ("daily-call-summary?date=01/02/2026", "date: Invalid date '01/02/2026', expected YYYY-MM-DD"),
        (
            "concurrency?date=2026-01-01&includeAgents=yes",
            "includeAgents: Invalid enum value. Expected 'true' | 'false', received 'yes'",
        ),
        ("call-start-distribution?date=2026-01-01&agentId=x", "agentId: Invalid id 'x'"),
    ] {
        let r = s.get(&format!("/analytics/{path}"), key).await;
        assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, message), "{path}: {}", r.text);
        assert_eq!(r.body["status"], false);
    }
    let r = s.get("/analytics/agent-performance?sortBy=speed", key).await;
    assert!(r.error().starts_with("sortBy: Invalid enum value. Expected 'totalCalls' |"), "{}", r.text);
    let r = s.call(Method::GET, "/analytics/summary", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = s.get("/analytics/call-counts-log?limit=9000", key).await;
    assert_eq!(r.body["data"]["limit"], 500, "large limits are clamped, as the call log does (R111)");
}

/// Deterministic under `--seed` with a virtual clock: two servers running
/// the same script answer every operation byte for byte alike.
#[tokio::test]
async fn every_figure_is_identical_across_two_runs_with_the_same_seed() {
    let key = "sk_analytics_seeded";
    let (one, two) = (server().await, server().await);
    mixed_world(&one, key).await;
    mixed_world(&two, key).await;
    let ops = every_operation("2026-01-01");
    for op in &ops {
        let path =
            if op.contains('?') { format!("{op}&dateFrom=2025-12-31") } else { format!("{op}?dateFrom=2025-12-31") };
        let (a, b) =
            (one.get(&format!("/analytics/{path}"), key).await, two.get(&format!("/analytics/{path}"), key).await);
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text);
        // Recording URLs name each server's own port.
        assert_eq!(a.text.replace(&one.root(), "BASE"), b.text.replace(&two.root(), "BASE"), "{path}");
    }
    let log = data(&one, key, "call-counts-log?limit=1").await;
    let id = log["calls"][0]["callId"].as_str().expect("a call").to_string();
    let (a, b) = (
        data(&one, key, &format!("conversation-details/{id}")).await,
        data(&two, key, &format!("conversation-details/{id}")).await,
    );
    assert_eq!(a, b);
}
