//! Persistence (`--state-file`) and the export/import of one organization
//! (`GET/PUT /_admin/state`): a graceful restart reads every resource back
//! identically and carries on with scheduled work; `kill -9` in the middle
//! of a write-heavy loop leaves a file that loads and is at most one
//! interval old; a bad file stops the start and is left untouched; an
//! exported organization imported into a fresh server answers the same
//! reads. The binary runs as a child process; waits are bounded waits on
//! the child or on answers, never sleeps.

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::WAIT;
use crate::campaigns::PRODUCT;
use crate::helpers::spawn_binary;

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

/// Uploads `csv` as an audience (phone column `phone`); returns its id.
async fn upload_audience(m: &Mock, csv: &str) -> String {
    let b = "----persistboundary";
    let field = |k: &str, v: &str| format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n");
    let body = format!(
        "{}{}--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{b}--\r\n",
        field("name", "Customers"),
        field("phoneNumberColumnName", "phone")
    );
    let res = m
        .http
        .post(format!("{}/atoms/v1/audience", m.root))
        .bearer_auth(KEY)
        .header("content-type", format!("multipart/form-data; boundary={b}"))
        .body(body)
        .send()
        .await;
    let v: Value = res.expect("upload").json().await.expect("json");
    v["data"]["_id"].as_str().unwrap_or_else(|| panic!("audience: {v}")).to_string()
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
    let body = json!({"name": "Later", "agentId": v1, "audienceId": aud, "scheduledAt": "2026-01-01T01:00:00.000Z",
                      "phoneNumberIds": [PRODUCT]});
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
