//! Persistence (`--state-file`) and the export/import of one organization
//! (`GET/PUT /_admin/state`): a graceful restart reads every resource back
//! identically and carries on with scheduled work; `kill -9` in the middle
//! of a write-heavy loop leaves a file that loads with a consistent state
//! (whole JSON, only created agents, nothing it held lost); a call in
//! progress reads back failed; a bad file stops the start and is left untouched; an
//! exported organization imported into a fresh server answers the same
//! reads. The binary runs as a child process; waits are bounded waits on
//! the child or on answers, never sleeps. Unix only (the graceful stop is
//! SIGTERM).

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::{now_ms, WAIT};
use crate::campaigns::{audience, new_campaign, product, upload_to};
use crate::helpers::{spawn_binary, Reply, TestServer};

const KEY: &str = "sk_persist";

/// A fresh directory for one test's state file.
fn state_dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("atoms-mock-persist-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

/// The binary running with `--state-file`, reached over HTTP.
struct Mock {
    child: tokio::process::Child,
    root: String,
    http: reqwest::Client,
}

impl Mock {
    async fn start(file: &Path, extra: &[&str]) -> Self {
        let mut args = vec!["--state-file", file.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        let (child, addr) = spawn_binary(&args).await;
        Self { child, root: format!("http://{addr}"), http: reqwest::Client::new() }
    }

    /// `method path` (under the root: `/atoms/v1/…` or `/_admin/…`) as `KEY`.
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.root)).bearer_auth(KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.send(method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    /// SIGTERM, then the exit status within the grace period and a margin.
    async fn stop(mut self) {
        let pid = rustix::process::Pid::from_raw(i32::try_from(self.child.id().expect("pid")).expect("pid fits"));
        rustix::process::kill_process(pid.expect("a pid"), rustix::process::Signal::TERM).expect("SIGTERM sent");
        let status = tokio::time::timeout(WAIT, self.child.wait()).await.expect("exited in time").expect("status");
        assert!(status.success(), "graceful stop exits 0: {status}");
    }
}

/// Uploads `csv` as the audience "Customers" (phone column `phone`); returns its id.
async fn upload_audience(m: &Mock, csv: &str) -> String {
    let fields = [("name", "Customers"), ("phoneNumberColumnName", "phone")];
    let r = upload_to(&m.http, &format!("{}/atoms/v1", m.root), KEY, &fields, Some(csv)).await;
    r.body["data"]["_id"].as_str().unwrap_or_else(|| panic!("audience: {}", r.text)).to_string()
}

/// The body of every read a client would make of `KEY`'s organization,
/// by path.
async fn reads(m: &Mock, paths: &[String]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for p in paths {
        out.push((p.clone(), m.ok(Method::GET, p, None).await));
    }
    out
}

/// R162, R086, R057, R134: agents with a published v1 version and a
/// scanning v2 publish, webhooks with subscriptions, an audience and a
/// scheduled campaign survive a graceful restart: every read answers the
/// same bytes, the scan finishes and the campaign starts at their times
/// on the restored virtual clock.
#[tokio::test]
async fn a_graceful_restart_reads_every_resource_back_and_carries_on_with_scheduled_work() {
    let dir = state_dir("restart");
    let file = dir.join("state.json");
    let a = Mock::start(&file, &["--snapshot-interval-secs", "3600"]).await;
    let api = "/atoms/v1";
    let agent = |name: &str| json!({"name": name});
    let v1 = a.ok(Method::POST, &format!("{api}/agent"), Some(agent("Alpha"))).await["data"]
        .as_str()
        .expect("id")
        .to_string();
    let v2 = a.ok(Method::POST, &format!("{api}/agent"), Some(agent("Beta"))).await["data"]
        .as_str()
        .expect("id")
        .to_string();
    // v1: a draft published as version 2 (still in its security window).
    let active = a.ok(Method::GET, &format!("{api}/agent/{v1}"), None).await["data"]["activeVersionId"].clone();
    let d = a.ok(Method::POST, &format!("{api}/agent/{v1}/drafts"), Some(json!({"sourceVersionId": active}))).await;
    let draft = d["data"]["draftId"].as_str().expect("draftId").to_string();
    a.ok(Method::PATCH, &format!("{api}/agent/{v1}/drafts/{draft}/config"), Some(json!({"firstMessage": "Hi!"}))).await;
    a.ok(Method::POST, &format!("{api}/agent/{v1}/drafts/{draft}/publish"), Some(json!({"label": "greeting"}))).await;
    let open = a.ok(Method::POST, &format!("{api}/agent/{v1}/drafts"), Some(json!({"sourceVersionId": active}))).await;
    let open = open["data"]["draftId"].as_str().expect("draftId").to_string();
    // v2: a branch whose publish is scanning (6 s, R086).
    let branches = a.ok(Method::GET, &format!("{api}/agent/{v2}/branches"), None).await;
    let main = branches["data"]["branches"][0]["branch"]["_id"].as_str().expect("main").to_string();
    let b = json!({"name": "experiment", "sourceBranchId": main});
    let branch = a.ok(Method::POST, &format!("{api}/agent/{v2}/branches"), Some(b)).await;
    let branch = branch["data"]["_id"].as_str().expect("branch id").to_string();
    let draft_path = format!("{api}/agent/{v2}/branches/{branch}/draft");
    a.ok(Method::PUT, &draft_path, Some(json!({"firstMessage": "Branch hello"}))).await;
    let (status, _) = a.send(Method::POST, &format!("{draft_path}/publish"), Some(json!({"label": "x"}))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the publish is scanning");
    // Webhooks with subscriptions.
    for (url, ty) in [("http://127.0.0.1:9/one", "post-conversation"), ("http://127.0.0.1:9/two", "pre-conversation")] {
        let events = json!([{"agentId": v1, "eventType": ty}]);
        a.ok(Method::POST, &format!("{api}/webhook"), Some(json!({"endpoint": url, "events": events}))).await;
    }
    // An audience and a campaign scheduled for 01:00 on the virtual clock.
    let aud = upload_audience(&a, "phone,name\n+15551000001,Ann\n+15551000002,Bob\n").await;
    let search = format!("{api}/product/get-available-numbers?countryCode=US&provider=plivo");
    let number = a.ok(Method::GET, &search, None).await["data"][0]["phoneNumber"].clone();
    a.ok(
        Method::POST,
        &format!("{api}/product/rent-number"),
        Some(json!({"phoneNumber": number, "provider": "plivo"})),
    )
    .await;
    let rented = a.ok(Method::GET, &format!("{api}/product/phone-numbers"), None).await["data"][0]["_id"].clone();
    let body = json!({"name": "Later", "agentId": v1, "audienceId": aud, "scheduledAt": "2026-01-01T01:00:00.000Z",
                      "phoneNumberIds": [rented]});
    let camp = a.ok(Method::POST, &format!("{api}/campaign"), Some(body)).await["data"]["_id"]
        .as_str()
        .expect("id")
        .to_string();
    // Phone numbers (account book, on another branch): create one here and
    // add `/product/...` reads below when they arrive.

    let paths: Vec<String> = [
        "/user".to_string(),
        "/agent?limit=50".into(),
        format!("/agent/{v1}"),
        format!("/agent/{v2}"),
        format!("/agent/{v1}/versions"),
        format!("/agent/{v1}/drafts"),
        format!("/agent/{v1}/drafts/{open}"),
        format!("/agent/{v2}/branches"),
        format!("/agent/{v2}/branches/{branch}/draft"),
        format!("/agent/{v2}/branches/{branch}/revisions"),
        format!("/agent/{v1}/webhook-subscriptions"),
        "/webhook".into(),
        "/audience".into(),
        format!("/audience/{aud}/members"),
        "/campaign".into(),
        format!("/campaign/{camp}"),
    ]
    .iter()
    .map(|p| format!("{api}{p}"))
    .chain(["/_admin/clock".to_string(), format!("/_admin/versioning?apiKey={KEY}")])
    .collect();
    let before = reads(&a, &paths).await;
    a.stop().await;

    let b = Mock::start(&file, &["--snapshot-interval-secs", "3600"]).await;
    let after = reads(&b, &paths).await;
    for ((path, x), (_, y)) in before.iter().zip(&after) {
        assert_eq!(x, y, "{path} reads back identically");
    }
    let revisions = format!("{api}/agent/{v2}/branches/{branch}/revisions?limit=1");
    let scan = b.ok(Method::GET, &revisions, None).await["data"]["revisions"][0]["securityCheck"]["status"].clone();
    assert_eq!(scan, json!("queued"));
    b.ok(Method::POST, "/_admin/clock/advance", Some(json!({"seconds": 6}))).await;
    let scan = b.ok(Method::GET, &revisions, None).await["data"]["revisions"][0]["securityCheck"]["status"].clone();
    assert_eq!(scan, json!("passed"), "the scan armed before the restart finishes at its time");
    b.ok(Method::POST, "/_admin/clock/advance", Some(json!({"seconds": 3590}))).await;
    let c = b.ok(Method::GET, &format!("{api}/campaign/{camp}"), None).await;
    assert_eq!(c["data"]["campaign"]["status"], "scheduled", "not before 01:00: {c}");
    b.ok(Method::POST, "/_admin/clock/advance", Some(json!({"seconds": 5}))).await;
    let c = b.ok(Method::GET, &format!("{api}/campaign/{camp}"), None).await;
    assert_eq!(c["data"]["campaign"]["status"], "running", "{c}");
    let started = &c["data"]["events"][0];
    assert_eq!(
        (started["eventAction"].as_str(), started["triggerSource"].as_str()),
        (Some("campaign_started"), Some("system_scheduler"))
    );
    b.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The binary started with `--state-file file`, expected to refuse to
/// start: its exit code and what it printed on stderr.
async fn refused_start(file: &Path) -> (Option<i32>, String) {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_atoms-mock"))
        .args(["--port", "0", "--clock", "virtual", "--state-file", file.to_str().expect("utf-8 path")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the binary");
    let out = tokio::time::timeout(WAIT, child.wait_with_output()).await.expect("stopped in time").expect("output");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A state file that is cut short, of another version or format, or that
/// breaks an invariant stops the start (exit 2) with a message naming the
/// file and the problem; the file is left byte for byte as it was and no
/// temporary is left beside it.
#[tokio::test]
async fn a_corrupt_or_foreign_state_file_stops_the_start_and_is_never_overwritten() {
    let dir = state_dir("refuse");
    let file = dir.join("state.json");
    let m = Mock::start(&file, &["--snapshot-interval-secs", "3600"]).await;
    m.ok(Method::POST, "/atoms/v1/agent", Some(json!({"name": "Kept"}))).await;
    m.stop().await;
    let good = std::fs::read_to_string(&file).expect("written on shutdown");
    let doc: Value = serde_json::from_str(&good).expect("JSON");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut d = doc.clone();
        f(&mut d);
        serde_json::to_string_pretty(&d).expect("JSON")
    };
    let twice = with(&|d| {
        let agents = &mut d["organizations"][KEY]["agents"];
        let first = agents[0].clone();
        agents.as_array_mut().expect("agents").push(first);
    });
    let cases = [
        (good[..good.len() / 2].to_string(), "not valid JSON"),
        (with(&|d| d["version"] = json!(2)), "version 2 is not supported (this build reads version 1)"),
        (with(&|d| d["format"] = json!("something-else")), "format is \"something-else\""),
        (with(&|d| d["organizations"][KEY]["newBook"] = json!({})), "unknown field `newBook`"),
        (twice, "appears twice"),
    ];
    for (text, problem) in cases {
        std::fs::write(&file, &text).expect("write");
        let (code, stderr) = refused_start(&file).await;
        assert_eq!(code, Some(2), "{problem}: {stderr}");
        assert!(stderr.contains(&file.display().to_string()) && stderr.contains(problem), "{problem}: {stderr}");
        assert!(stderr.contains("left untouched"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&file).expect("still there"), text, "{problem}: never overwritten");
        assert!(!dir.join(".state.json.tmp").exists(), "{problem}: nothing written beside it");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kill -9` in the middle of a write-heavy loop, 20 times over one state
/// file: every restart loads the file, and what it holds is consistent:
/// only agents that were created, at least every one the file already
/// held before the kill, and the restored mock answers exactly the file.
#[tokio::test]
async fn kill_9_during_writes_leaves_a_file_that_loads_with_a_consistent_state_20_times() {
    let dir = state_dir("crash");
    let file = dir.join("state.json");
    let held = |file: &Path| -> Vec<String> {
        let Ok(text) = std::fs::read_to_string(file) else { return Vec::new() };
        let doc: Value = serde_json::from_str(&text).expect("the file on disk is always whole JSON");
        let agents = doc["organizations"][KEY]["agents"].as_array().cloned().unwrap_or_default();
        agents.iter().map(|r| r["agent"]["id"].as_str().expect("agent id").to_string()).collect()
    };
    let mut created: Vec<String> = Vec::new();
    let mut last_held: Vec<String> = Vec::new();
    for round in 0..20 {
        let mut m = Mock::start(&file, &["--snapshot-interval-secs", "0.05"]).await;
        let export = m.ok(Method::GET, &format!("/_admin/state?apiKey={KEY}"), None).await;
        let mut restored: Vec<String> = export["organization"]["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .map(|r| r["agent"]["id"].as_str().expect("id").to_string())
            .collect();
        let mut on_disk = held(&file);
        restored.sort();
        on_disk.sort();
        assert_eq!(restored, on_disk, "round {round}: the mock answers what the file holds");
        assert!(restored.iter().all(|id| created.contains(id)), "round {round}: only created agents");
        assert!(last_held.iter().all(|id| restored.contains(id)), "round {round}: nothing the file held is lost");
        // Write until the file holds a few of the new agents (the writer
        // keeps up), then a few more that may or may not make it, and
        // kill -9 with writes in flight.
        let start = created.len();
        let mut extra = 0;
        while extra < 3 {
            let v = m.ok(Method::POST, "/atoms/v1/agent", Some(json!({"name": format!("r{round}")}))).await;
            created.push(v["data"].as_str().expect("id").to_string());
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if extra > 0 || created[start..].iter().filter(|id| text.contains(id.as_str())).count() >= 2 {
                extra += 1;
            }
        }
        last_held = held(&file);
        m.child.kill().await.expect("kill -9");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const IMPORT: &str = "sk_import";

/// An organization with agents, a published version, a webhook, an
/// audience and a scheduled campaign, on an in-process server.
async fn seeded(s: &TestServer) -> (String, String, String) {
    let agent = s.create_agent(IMPORT, "Seeded").await;
    s.release(IMPORT, &agent, json!({"firstMessage": "Hello"})).await;
    let r = s
        .post(
            "/webhook",
            IMPORT,
            json!({"endpoint": "http://127.0.0.1:9/hook",
                                        "events": [{"agentId": agent, "eventType": "post-conversation"}]}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let aud = audience(s, IMPORT, "phone,name\n+15551000001,Ann\n").await;
    let body = json!({"name": "Later", "agentId": agent, "audienceId": aud, "scheduledAt": "2026-01-01T01:00:00.000Z",
                      "phoneNumberIds": [product(s, IMPORT).await]});
    let camp = new_campaign(s, IMPORT, body).await;
    (agent, aud, camp)
}

async fn export(s: &TestServer, key: &str) -> Value {
    let r = s.admin(Method::GET, &format!("/state?apiKey={key}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn import(s: &TestServer, key: &str, body: &[u8]) -> Reply {
    s.raw(Method::PUT, &format!("{}/_admin/state?apiKey={key}", s.root()), None, Some(body.to_vec())).await
}

/// Acceptance 4: an organization exported from one server and imported
/// into a fresh one answers the same reads, and its scheduled campaign
/// starts there at its time.
#[tokio::test]
async fn an_exported_organization_imported_into_a_fresh_server_answers_the_same_reads() {
    let a = TestServer::start().await;
    let (agent, aud, camp) = seeded(&a).await;
    let doc = export(&a, IMPORT).await;
    let b = TestServer::start().await;
    // An export carries no clock: the fresh server's clock is brought to
    // the exporter's time first, as a suite seeding timed state would.
    let lag = now_ms(&a).await - now_ms(&b).await;
    b.advance(lag as f64 / 1000.0).await;
    let r = import(&b, IMPORT, doc.to_string().as_bytes()).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({"imported": IMPORT})), "{}", r.text);
    let paths = [
        "/user".to_string(),
        "/agent".into(),
        format!("/agent/{agent}"),
        format!("/agent/{agent}/versions"),
        format!("/agent/{agent}/webhook-subscriptions"),
        "/webhook".into(),
        "/audience".into(),
        format!("/audience/{aud}/members"),
        format!("/campaign/{camp}"),
    ];
    for p in &paths {
        let (x, y) = (a.get(p, IMPORT).await, b.get(p, IMPORT).await);
        assert_eq!((x.status, &x.body), (y.status, &y.body), "{p} answers the same");
    }
    assert_eq!(export(&b, IMPORT).await, doc, "exported again, the same document");
    b.advance(3600.0).await;
    let c = b.get(&format!("/campaign/{camp}"), IMPORT).await;
    assert_eq!(c.body["data"]["campaign"]["status"], "running", "{}", c.text);
}

/// Bad imports answer 400 in the platform's envelope naming the problem
/// (not JSON, not a document, another format or version, a field that
/// does not fit, a broken invariant, a webhook URL another organization
/// has, no apiKey) and change nothing: the organization exports the same
/// document afterwards.
#[tokio::test]
async fn a_bad_import_answers_400_naming_the_problem_and_changes_nothing() {
    let s = TestServer::start().await;
    seeded(&s).await;
    let before = export(&s, IMPORT).await;
    let other = "sk_import_other";
    s.post("/webhook", other, json!({"endpoint": "http://127.0.0.1:9/taken", "events": []})).await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut d = before.clone();
        f(&mut d);
        d.to_string()
    };
    let cases = [
        ("{\"format\": ".to_string(), "Malformed JSON in request body"),
        ("[]".to_string(), "Expected object, received array"),
        (with(&|d| d["format"] = json!("atoms-mock-state")), "format is \"atoms-mock-state\""),
        (with(&|d| d["version"] = json!(7)), "version 7 is not supported"),
        (with(&|d| d["organization"]["agents"] = json!(3)), "organization.agents"),
        (with(&|d| d["organization"]["surprise"] = json!(1)), "unknown field `surprise`"),
        (with(&|d| d["organization"]["orgId"] = json!("nope")), "orgId: 'nope' is not a 24-character"),
        (
            with(&|d| {
                let a = &mut d["organization"]["agents"][0]["agent"]["activeVersionId"];
                *a = json!("000000000000000000000000");
            }),
            "is not among its versions",
        ),
        (
            with(&|d| d["organization"]["webhooks"]["webhooks"][0]["url"] = json!("http://127.0.0.1:9/taken")),
            "registered by another organization",
        ),
    ];
    for (body, problem) in cases {
        let r = import(&s, IMPORT, body.as_bytes()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{problem}: {}", r.text);
        assert_eq!(r.body["status"], false, "the envelope: {}", r.text);
        assert!(r.error().contains(problem), "{problem}: {}", r.text);
        assert_eq!(export(&s, IMPORT).await, before, "{problem}: nothing changed");
    }
    let r =
        s.raw(Method::PUT, &format!("{}/_admin/state", s.root()), None, Some(before.to_string().into_bytes())).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "apiKey: Required"), "{}", r.text);
}

/// R110: a call still in progress when the mock stops is recorded as
/// ended `failed` with `system_error`, as the platform ends an
/// interrupted call; after the restart it reads back ended, with its
/// `endedAt` at the time of the stop.
#[tokio::test]
async fn a_call_in_progress_at_the_stop_reads_back_failed_with_system_error() {
    let dir = state_dir("interrupted");
    let file = dir.join("state.json");
    let a = Mock::start(&file, &["--snapshot-interval-secs", "3600"]).await;
    let agent = a.ok(Method::POST, "/atoms/v1/agent", Some(json!({"name": "Caller"}))).await;
    let agent = agent["data"].as_str().expect("id").to_string();
    let body = json!({"agentId": agent, "phoneNumber": "+15551230000"});
    let call = a.ok(Method::POST, "/atoms/v1/conversation/outbound", Some(body)).await;
    let call = call["data"]["conversationId"].as_str().expect("conversationId").to_string();
    a.ok(Method::POST, "/_admin/clock/advance", Some(json!({"seconds": 3}))).await;
    let path = format!("/atoms/v1/conversation/{call}");
    let running = a.ok(Method::GET, &path, None).await;
    assert_eq!(running["data"]["endedAt"], Value::Null, "still in progress: {running}");
    let stopped_at = a.ok(Method::GET, "/_admin/clock", None).await["now"].clone();
    a.stop().await;

    let b = Mock::start(&file, &["--snapshot-interval-secs", "3600"]).await;
    let d = b.ok(Method::GET, &path, None).await;
    let d = &d["data"];
    assert_eq!(
        (d["status"].as_str(), d["disconnectionReason"].as_str()),
        (Some("failed"), Some("system_error")),
        "{d}"
    );
    assert!(d["endedAt"].as_str().is_some_and(|t| stopped_at.as_str().is_some_and(|s| t.starts_with(&s[..19]))), "{d}");
    b.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
