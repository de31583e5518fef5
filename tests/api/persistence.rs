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
/// scanning v2 publish, webhooks with subscriptions, an audience, a rented
/// phone number (with its ledger entries) and a scheduled campaign survive a graceful restart: every read answers the
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
        // The rented number, attached to the campaign, and what it cost.
        "/product/phone-numbers".into(),
        "/product/all-numbers".into(),
        "/user/subscription".into(),
    ]
    .iter()
    .map(|p| format!("{api}{p}"))
    .chain(["/payment/v1/credits/balance".to_string(), "/payment/v1/credits/ledger".into()])
    .chain(["/_admin/clock".to_string(), format!("/_admin/versioning?apiKey={KEY}")])
    .collect();
    let before = reads(&a, &paths).await;
    let numbers = &before.iter().find(|(p, _)| p.ends_with("/product/phone-numbers")).expect("numbers read").1;
    assert_eq!(numbers["data"][0]["_id"], rented, "the rented number is among the reads");
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
        (with(&|d| d["organization"]["dnc"]["len"] = json!(5)), "dnc: len is 5, but the list holds 0 entries"),
        (
            with(&|d| d["organization"]["account"]["account"]["ledger"]["balance"] = json!(1)),
            "ledger: balance is 0.000001",
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

/// `--state-import-bytes`: a document over the configured import limit
/// gets 413 naming that limit, whether its `Content-Length` declares it
/// (refused before the body is read) or it arrives chunked (refused while
/// read), and changes nothing; a server with a larger limit imports it.
#[tokio::test]
async fn an_import_over_the_configured_state_import_bytes_gets_413_and_a_larger_limit_takes_it() {
    let source = TestServer::start().await;
    seeded(&source).await;
    let doc = export(&source, IMPORT).await.to_string().into_bytes();
    let limit = doc.len() - 1;
    let small = |n: usize| {
        let mut c = atoms_mock::Config { port: 0, ..atoms_mock::Config::default() };
        c.persistence.state_import_bytes = n;
        c
    };
    let s = TestServer::with_config(small(limit)).await;
    let url = format!("{}/_admin/state?apiKey={IMPORT}", s.root());
    let before = export(&s, IMPORT).await;
    let declared = s.raw(Method::PUT, &url, None, Some(doc.clone())).await;
    let msg = format!("Request body too large: {} bytes declared, the limit is {limit} bytes", doc.len());
    assert_eq!((declared.status, declared.error()), (StatusCode::PAYLOAD_TOO_LARGE, msg.as_str()), "{}", declared.text);
    let chunks = doc.chunks(4096).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let chunked = reqwest::Client::new().put(&url).header("content-type", "application/json").body(body).send().await;
    let chunked = chunked.expect("chunked import");
    assert_eq!(chunked.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let text = chunked.text().await.expect("body");
    assert!(text.contains(&format!("the limit is {limit} bytes")), "{text}");
    assert_eq!(export(&s, IMPORT).await, before, "a refused import changes nothing");

    let roomy = TestServer::with_config(small(doc.len())).await;
    let r = import(&roomy, IMPORT, &doc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
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

const BOOKS: &str = "sk_persist_books";
const RIVAL: &str = "sk_persist_rival";
/// A number on `BOOKS`'s Do-Not-Call list (org-wide).
const LISTED: &str = "+14155550123";

/// What [`seed_books`] created, for the checks after the restore.
struct Books {
    agent: String,
    /// The rented number, digits only.
    number: String,
    kb: String,
    /// Every read a client would make of the books, under `/atoms/v1`
    /// (or the root for `/payment/v1` and `/_admin`).
    paths: Vec<String>,
}

/// `BOOKS`'s organization with something in every book that joined the
/// snapshot after the agents and campaigns: the Do-Not-Call list, a
/// concurrency limit and a reservation, credits and a rented number on the
/// ledger, a compliance application, a knowledge base with a URL still
/// processing, a call action, a widget config, WebEngage, and a finished
/// call (analytics, the action's run). Nothing is running at the end.
async fn seed_books(s: &TestServer) -> Books {
    let agent = crate::call_helpers::agent(s, BOOKS, "Books").await;
    let graph = crate::call_helpers::workflow_agent(s, BOOKS, "Graph").await;
    let version = s.release(BOOKS, &agent, json!({"firstMessage": "Hello again"})).await;
    let draft = s.fork_draft(BOOKS, &agent).await;
    let ok = |r: &Reply, what: &str| assert!(r.status.is_success(), "{what}: {}", r.text);
    let r = s.admin(Method::POST, &format!("/dnc?apiKey={BOOKS}"), Some(json!({"phoneNumbers": [LISTED]}))).await;
    ok(&r, "dnc");
    let r = s.admin(Method::PUT, &format!("/concurrency?apiKey={BOOKS}"), Some(json!({"limit": 3}))).await;
    ok(&r, "limit");
    let items = json!({"reservations": [{"agentId": agent, "webcall": 0, "outbound": 1, "inbound": 0, "chat": 0}]});
    ok(&s.call(Method::PUT, "/concurrency/reservations", Some(BOOKS), Some(items)).await, "reservations");
    ok(&s.admin(Method::POST, &format!("/credits?apiKey={BOOKS}"), Some(json!({"amount": 25}))).await, "credits");
    crate::account::rent_number(s, BOOKS, "US").await;
    let listed = s.get("/product/phone-numbers", BOOKS).await;
    let number = listed.body["data"][0]["attributes"]["phoneNumber"].as_str().expect("number");
    let number = number.trim_start_matches('+').to_string();
    let fields = [
        ("countryIso", "DE"),
        ("numberType", "local"),
        ("userType", "individual"),
        ("endUser", r#"{"name":"Ada"}"#),
        ("documents", "[]"),
    ];
    let (ct, body) = crate::account::form(&fields, &[]);
    let r = s.http.post(format!("{}/compliance/applications", s.base())).bearer_auth(BOOKS).header("content-type", ct);
    let r = r.body(body).send().await.expect("compliance");
    assert_eq!(r.status(), StatusCode::CREATED, "compliance application");
    let r = s.post("/knowledgebase", BOOKS, json!({"name": "FAQ"})).await;
    ok(&r, "knowledge base");
    let kb = r.body["data"].as_str().expect("kb id").to_string();
    let action = json!({"agentId": agent, "category": "post-call", "provider": "hubspot",
        "config": {"conditions": [], "body": "{\"call\": \"{{callId}}\"}"}});
    ok(&s.post("/call-actions", BOOKS, action).await, "call action");
    let widget = json!({"widgetConfig": {"borderRadius": 12}});
    ok(&s.patch(&format!("/agent/{agent}/widget-config"), BOOKS, widget).await, "widget");
    let sets = json!({"integrationSets": [{"licenseCode": "lc", "environment": "us", "apiKey": "k"}]});
    ok(&s.post("/integration/modify-webengage-integration", BOOKS, sets).await, "webengage");
    let call = crate::call_helpers::outbound(s, BOOKS, &agent, "+15551230077", None).await;
    crate::call_helpers::run_to_end(s, BOOKS, &call, 120).await;
    s.until("the post-call action ran", || async {
        let r = s.admin(Method::GET, &format!("/call-actions/runs?apiKey={BOOKS}"), None).await;
        r.text.contains(&call)
    })
    .await;
    // Last, so the URL is still being processed when the state is taken.
    let urls = json!({"urls": ["https://acme.example/faq"]});
    ok(&s.post(&format!("/knowledgebase/{kb}/scrape-urls"), BOOKS, urls).await, "scrape");
    s.advance(1.0).await;
    let status = scrape_status(s, &kb).await;
    assert!(["pending", "scraping"].contains(&status.as_str()), "still processing: {status}");
    let day = "2026-01-01";
    let paths = [
        format!("/agent/{agent}"),
        format!("/agent/{agent}/versions/{version}"),
        format!("/agent/{agent}/drafts/{draft}"),
        format!("/agent/{graph}/versions"),
        format!("/agent/{graph}/workflow"),
        "/dnc".to_string(),
        "/concurrency".into(),
        "/user/subscription".into(),
        "/product/phone-numbers".into(),
        "/product/all-numbers".into(),
        "/compliance/status?countryIso=DE&numberType=local&userType=individual".into(),
        "/knowledgebase".into(),
        format!("/knowledgebase/{kb}/scraped-urls"),
        format!("/call-actions?agentId={agent}"),
        format!("/agent/{agent}/widget-config"),
        "/integration/get-webengage-details".into(),
        format!("/conversation/{call}"),
        "/analytics/dashboard".into(),
        "/analytics/agent-performance".into(),
        "/analytics/call-counts-log?limit=500".into(),
        format!("/analytics/daily-call-summary?date={day}"),
        format!("/analytics/concurrency?date={day}&includeAgents=true"),
    ]
    .iter()
    .map(|p| format!("/atoms/v1{p}"))
    .chain([
        "/payment/v1/credits/balance".to_string(),
        "/payment/v1/credits/ledger?limit=100".into(),
        "/payment/v1/invoices".into(),
        format!("/_admin/concurrency?apiKey={BOOKS}"),
        format!("/_admin/call-actions/runs?apiKey={BOOKS}"),
    ])
    .collect();
    Books { agent, number, kb, paths }
}

/// The status of the first scraped URL of `kb`.
async fn scrape_status(s: &TestServer, kb: &str) -> String {
    let r = s.get(&format!("/knowledgebase/{kb}/scraped-urls"), BOOKS).await;
    r.body["data"][0]["status"].as_str().unwrap_or("").to_string()
}

/// Every read of `books` on `a` and `b` answers the same status and
/// bytes (but for the server's address), block ids included.
async fn same_reads(a: &TestServer, b: &TestServer, books: &Books) {
    for p in &books.paths {
        let url = |s: &TestServer| format!("{}{p}", s.root());
        let (x, y) = (
            a.raw(Method::GET, &url(a), Some(BOOKS), None).await,
            b.raw(Method::GET, &url(b), Some(BOOKS), None).await,
        );
        assert_eq!(x.status, StatusCode::OK, "{p}: {}", x.text);
        // Recording URLs name the server's address; the call log's
        // `recording_available` entry keeps the one it was sent with.
        let norm = |t: &str| t.replace(&a.root(), "ROOT").replace(&b.root(), "ROOT");
        let (x_text, y_text) = (norm(&x.text), norm(&y.text));
        assert_eq!((x.status, x_text), (y.status, y_text), "{p} answers the same");
    }
    let v = a.get(&books.paths[1]["/atoms/v1".len()..], BOOKS).await;
    assert!(
        v.body["data"]["version"]["blocks"].as_object().is_some_and(|b| !b.is_empty()),
        "versions carry block ids: {}",
        v.text
    );
}

/// After the restore (`b`) the books still act: the listed number is not
/// dialled, another organization cannot rent the held number, and the
/// URL that was processing is indexed at the same clock second as on `a`,
/// which carries on without a restart.
async fn books_carry_on(a: &TestServer, b: &TestServer, books: &Books) {
    let call = crate::call_helpers::outbound(b, BOOKS, &books.agent, LISTED, None).await;
    b.advance(0.0).await;
    let d = crate::call_helpers::detail(b, BOOKS, &call).await;
    assert_eq!(d["callFailureReason"], "Number is on the Do-Not-Call list", "{d}");
    let body = json!({"phoneNumber": books.number, "provider": "plivo"});
    let r = b.post("/product/rent-number", RIVAL, body).await;
    assert_eq!(r.error(), format!("Phone number {} is not available", books.number), "{}", r.text);
    let mut steps = 0;
    loop {
        let (x, y) = (scrape_status(a, &books.kb).await, scrape_status(b, &books.kb).await);
        assert_eq!(x, y, "the same state {steps} s after the restore");
        if x == "indexed" {
            break;
        }
        assert!(steps < 120, "indexed within two minutes: {x}");
        a.advance(1.0).await;
        b.advance(1.0).await;
        steps += 1;
    }
    assert!(steps > 0, "the URL was still processing at the restore");
}

/// Every book survives a graceful restart: the state document the state
/// file holds (`persist::snapshot`, as written on shutdown, through its
/// JSON text) restored into a fresh server (`persist::restore`, as at
/// start) answers every read of every book the same, block ids included,
/// and carries on: DNC, the held number, knowledge-base processing.
#[tokio::test]
async fn a_restart_keeps_every_book_and_carries_on_with_its_work() {
    let a = TestServer::start().await;
    let books = seed_books(&a).await;
    let text = serde_json::to_string_pretty(&atoms_mock::persist::snapshot(a.server.state())).expect("JSON");
    let doc = atoms_mock::persist::parse(text.as_bytes(), atoms_mock::persist::STATE_FORMAT).expect("reads back");
    let b = TestServer::start().await;
    atoms_mock::persist::restore(b.server.state(), doc).await.expect("restored");
    same_reads(&a, &b, &books).await;
    books_carry_on(&a, &b, &books).await;
}

/// Every book survives an export and import into a fresh server (same
/// reads, same work carried on); an import whose rented number another
/// organization holds is refused with 400 and changes nothing.
#[tokio::test]
async fn an_imported_organization_keeps_every_book_and_a_number_held_elsewhere_is_refused() {
    let a = TestServer::start().await;
    let books = seed_books(&a).await;
    let doc = export(&a, BOOKS).await;
    let b = TestServer::start().await;
    let lag = now_ms(&a).await - now_ms(&b).await;
    b.advance(lag as f64 / 1000.0).await;
    let r = import(&b, BOOKS, doc.to_string().as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    same_reads(&a, &b, &books).await;
    books_carry_on(&a, &b, &books).await;

    let c = TestServer::start().await;
    let r = c.post("/product/rent-number", RIVAL, json!({"phoneNumber": books.number, "provider": "plivo"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = import(&c, BOOKS, doc.to_string().as_bytes()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.error().contains(&format!("+{} is held by another organization", books.number)), "{}", r.text);
    assert_eq!(c.get("/dnc", BOOKS).await.body["data"]["pagination"]["total"], 0, "nothing imported");
}
