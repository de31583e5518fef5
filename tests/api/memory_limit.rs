//! `--max-memory-bytes` (a mock extension, `memory::MemoryLimit`), against
//! the real binary and its real memory: past the limit, writes outside the
//! control API get 507 while reads, deletes and the control API still run;
//! the memory stops growing there; a reset lets writes in again.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::spawn_binary;

/// The resident set of process `pid`, in bytes.
fn resident(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    atoms_mock::memory::vm_rss(&status).expect("VmRSS")
}

/// Whether the memory limit can run here (it reads `/proc`, Linux only);
/// otherwise [`crate::prereq::skip`]s `test`.
fn on_linux(test: &str) -> bool {
    if !cfg!(target_os = "linux") {
        crate::prereq::skip(test, "the memory limit reads /proc (Linux only)");
    }
    cfg!(target_os = "linux")
}

async fn send(root: &str, method: Method, path: &str, key: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{root}{path}")).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn past_the_memory_limit_writes_get_507_and_reads_deletes_and_the_control_api_still_run() {
    if !on_linux("past_the_memory_limit_writes_get_507_and_reads_deletes_and_the_control_api_still_run") {
        return;
    }
    let (_child, addr) = spawn_binary(&["--max-memory-bytes", "1"]).await;
    let root = format!("http://{addr}");
    let (status, body) = send(&root, Method::POST, "/atoms/v1/agent", "sk_mem", Some(json!({"name": "x"}))).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    let msg = body["errors"][0].as_str().expect("the error envelope");
    assert!(
        msg.starts_with("Insufficient storage: the mock holds ") && msg.contains("memory limit of 1 bytes"),
        "{msg}"
    );
    assert_eq!(body["status"], false);
    assert_eq!(send(&root, Method::GET, "/atoms/v1/user", "sk_mem", None).await.0, StatusCode::OK);
    let (status, body) =
        send(&root, Method::DELETE, "/atoms/v1/agent/0123456789abcdef01234567/archive", "sk_mem", None).await;
    assert_eq!(
        (status, &body["errors"][0]),
        (StatusCode::NOT_FOUND, &json!("Agent not found")),
        "a delete reaches its handler"
    );
    assert_eq!(send(&root, Method::POST, "/_admin/reset", "sk_mem", None).await.0, StatusCode::OK);
}

/// Each write adds an agent of about 1 MiB (a new organization each, so no
/// plan limit answers first) until the limit refuses; the process then
/// holds about the limit, not more, and a reset brings writes back.
#[tokio::test]
async fn the_memory_stops_growing_at_the_limit_and_a_reset_lets_writes_in_again() {
    if !on_linux("the_memory_stops_growing_at_the_limit_and_a_reset_lets_writes_in_again") {
        return;
    }
    let (probe, _) = spawn_binary(&["--max-memory-bytes", "0"]).await;
    let idle = resident(probe.id().expect("pid"));
    drop(probe);
    let limit = idle + 64 * 1024 * 1024;
    let (child, addr) = spawn_binary(&["--max-memory-bytes", &limit.to_string()]).await;
    let (root, pid) = (format!("http://{addr}"), child.id().expect("pid"));
    let blob = "x".repeat(900_000);
    let mut refused = None;
    for i in 0..400 {
        let body = json!({"name": "big", "defaultVariables": {"blob": format!("{blob}{i}")}});
        let (status, answer) = send(&root, Method::POST, "/atoms/v1/agent", &format!("sk_grow_{i}"), Some(body)).await;
        if status == StatusCode::INSUFFICIENT_STORAGE {
            refused = Some(i);
            break;
        }
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let refused = refused.expect("a write refused before 400 agents of 1 MiB");
    assert!(refused >= 8, "the limit leaves the room it names: refused at write {refused}");
    let held = resident(pid);
    assert!(held <= limit + 8 * 1024 * 1024, "held {held} bytes against a limit of {limit}");
    assert_eq!(send(&root, Method::POST, "/_admin/reset", "sk_grow_0", None).await.0, StatusCode::OK);
    let (status, answer) = send(&root, Method::POST, "/atoms/v1/agent", "sk_after", Some(json!({"name": "a"}))).await;
    assert_eq!(status, StatusCode::CREATED, "after the reset: {answer}");
}
