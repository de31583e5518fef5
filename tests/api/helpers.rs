//! `TestServer`: the real server on 127.0.0.1:0 with a virtual clock, plus
//! small typed request helpers.

#![allow(dead_code, unreachable_pub)]

use atoms_mock::{fixtures::Fixtures, AppState, Config, Server};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A running server and an HTTP client.
pub struct TestServer {
    pub server: Server,
    pub http: reqwest::Client,
}

/// A response: status and parsed JSON body (`Value::Null` if not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
    pub content_type: String,
}

impl Reply {
    /// `errors[0]` of an error envelope.
    pub fn error(&self) -> &str {
        self.body["errors"][0].as_str().unwrap_or("")
    }
}

impl TestServer {
    /// Starts a server with the test configuration (virtual clock, seed 1).
    pub async fn start() -> Self {
        Self::with_config(Config::for_tests()).await
    }

    /// Starts a server as `atoms-mock` with no flags would (real clock,
    /// random seed, `auto` versioning, CORS for any origin), on port 0.
    pub async fn start_no_flags() -> Self {
        Self::with_config(Config { port: 0, ..Config::default() }).await
    }

    /// Starts a server with `config` and the embedded fixtures.
    pub async fn with_config(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let fixtures = Fixtures::load(config.fixtures.as_deref()).expect("fixtures");
        let server = Server::start(listener, AppState::new(config, fixtures)).expect("start");
        Self { server, http: reqwest::Client::new() }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn root(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// `http://127.0.0.1:PORT/atoms/v1`.
    pub fn base(&self) -> String {
        self.server.base_url()
    }

    /// Sends a request to `path` under `/atoms/v1` with `key` as Bearer.
    pub async fn call(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Reply {
        self.raw(method, &format!("{}{path}", self.base()), key, body.map(|b| b.to_string().into_bytes())).await
    }

    /// Sends raw bytes to an absolute URL.
    pub async fn raw(&self, method: Method, url: &str, key: Option<&str>, body: Option<Vec<u8>>) -> Reply {
        let mut req = self.http.request(method, url);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, text, content_type }
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.call(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.call(Method::DELETE, path, Some(key), None).await
    }

    /// Calls the control API at `path` (under `/_admin`).
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let url = format!("{}/_admin{path}", self.root());
        self.raw(method, &url, None, body.map(|b| b.to_string().into_bytes())).await
    }

    /// Awaits `check` until it holds, letting the server's clock-driven
    /// work settle between looks (`Clock::run_until_idle`, time does not
    /// move); fails the test after `crate::call_helpers::WAIT`.
    pub async fn until<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let clock = self.server.state().store.clock().clone();
        let settled = async {
            while !check().await {
                clock.run_until_idle().await;
            }
        };
        tokio::time::timeout(crate::call_helpers::WAIT, settled).await.unwrap_or_else(|_| panic!("never: {what}"));
    }

    /// Advances the virtual clock through the control API.
    pub async fn advance(&self, seconds: f64) {
        let url = format!("{}/_admin/clock/advance", self.root());
        let r = self.raw(Method::POST, &url, None, Some(json!({"seconds": seconds}).to_string().into_bytes())).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    /// Creates an agent named `name`; returns its id.
    pub async fn create_agent(&self, key: &str, name: &str) -> String {
        let r = self.post("/agent", key, json!({"name": name})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["data"].as_str().expect("id").to_string()
    }

    /// The agent's active version id.
    pub async fn active_version(&self, key: &str, agent: &str) -> String {
        let r = self.get(&format!("/agent/{agent}"), key).await;
        r.body["data"]["activeVersionId"].as_str().expect("activeVersionId").to_string()
    }

    /// Forks a draft from the active version; returns its `draftId`.
    pub async fn fork_draft(&self, key: &str, agent: &str) -> String {
        let v = self.active_version(key, agent).await;
        let r = self.post(&format!("/agent/{agent}/drafts"), key, json!({"sourceVersionId": v})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["data"]["draftId"].as_str().expect("draftId").to_string()
    }

    /// Forks a draft, patches its config with `config`, publishes it and,
    /// once the security check (R057) has passed on the clock, activates
    /// it; returns the new version id.
    pub async fn release(&self, key: &str, agent: &str, config: Value) -> String {
        let draft = self.fork_draft(key, agent).await;
        let r = self.patch(&format!("/agent/{agent}/drafts/{draft}/config"), key, config).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let version = self.publish(key, agent, &draft).await;
        self.advance(6.0).await;
        let r = self.patch(&format!("/agent/{agent}/versions/{version}/activate"), key, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        version
    }

    /// Publishes a draft; returns the new version id.
    pub async fn publish(&self, key: &str, agent: &str, draft: &str) -> String {
        let r = self.post(&format!("/agent/{agent}/drafts/{draft}/publish"), key, json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["data"]["_id"].as_str().expect("_id").to_string()
    }
}

/// The binary with a virtual clock on port 0 and `args`; its address from
/// the ready line (the first line on stdout). Killed when dropped. Its
/// stderr goes to a file beside the temp dir, quoted when the start fails.
pub async fn spawn_binary(args: &[&str]) -> (tokio::process::Child, std::net::SocketAddr) {
    use std::sync::atomic::{AtomicU32, Ordering};
    use tokio::io::{AsyncBufReadExt, BufReader};
    static STARTS: AtomicU32 = AtomicU32::new(0);
    let n = STARTS.fetch_add(1, Ordering::Relaxed);
    let log = std::env::temp_dir().join(format!("atoms-mock-stderr-{}-{n}.log", std::process::id()));
    let stderr = std::fs::File::create(&log).expect("stderr file");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_atoms-mock"))
        .args(["--port", "0", "--clock", "virtual"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    let mut stdout = BufReader::new(stdout);
    let read = tokio::time::timeout(crate::call_helpers::WAIT, stdout.read_line(&mut line)).await;
    let addr = line.trim().trim_start_matches("http://").trim_end_matches("/atoms/v1").parse();
    let Ok(addr) = addr else {
        let _ = child.kill().await;
        let err = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("the binary did not start ({read:?}, ready line {line:?}); its stderr:\n{err}");
    };
    let _ = std::fs::remove_file(&log);
    (child, addr)
}
