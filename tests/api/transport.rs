//! The transport's bounds, seen from raw sockets: header, body and idle
//! timeouts, refusals made from the request head (413, 431) and graceful
//! shutdown of the binary on SIGTERM with every kind of long-lived
//! connection open. Waits are bounded socket reads; nothing sleeps.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use atoms_mock::{Config, Transport};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::call_helpers::{agent, outbound, WAIT};
#[cfg(unix)]
use crate::helpers::spawn_binary;
use crate::helpers::TestServer;

const KEY: &str = "sk_transport";

/// A server whose timeouts are `header`, `body` and `idle` seconds.
async fn server(header: f64, body: f64, idle: f64) -> TestServer {
    let transport = Transport {
        header_timeout_secs: header,
        body_timeout_secs: body,
        idle_timeout_secs: idle,
        ..Transport::default()
    };
    TestServer::with_config(Config { transport, ..Config::for_tests() }).await
}

/// One response read off a raw socket.
#[derive(Debug)]
struct Raw {
    status: u16,
    head: String,
    body: Value,
}

/// Opens a connection to `addr` and writes `bytes` (and nothing more).
async fn send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut sock = TcpStream::connect(addr).await.expect("connect");
    sock.write_all(bytes).await.expect("write");
    sock
}

/// Reads one response (its head, and a `Content-Length` body), waiting at
/// most [`WAIT`].
async fn read_response(sock: &mut TcpStream) -> Raw {
    tokio::time::timeout(WAIT, async {
        let mut reader = BufReader::new(sock);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            assert!(reader.read_line(&mut line).await.expect("read") > 0, "closed before a response: {head}");
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let length = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|n| n.trim().parse().ok()))
            .flatten()
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await.expect("body");
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
        Raw { status, head, body: serde_json::from_slice(&body).unwrap_or(Value::Null) }
    })
    .await
    .expect("a response in time")
}

/// Whether the server closes the connection within [`WAIT`] (bytes it
/// still sends first are skipped).
async fn closed(sock: &mut TcpStream) -> bool {
    let mut buf = [0; 4096];
    tokio::time::timeout(WAIT, async {
        loop {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await
    .unwrap_or(false)
}

fn post_head(path: &str, length: usize, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn a_stalled_body_gets_408_in_the_envelope_after_the_body_timeout() {
    for journal_capacity in [atoms_mock::journal::DEFAULT_CAPACITY, 0] {
        let transport = Transport { body_timeout_secs: 0.2, ..Transport::default() };
        let s = TestServer::with_config(Config { transport, journal_capacity, ..Config::for_tests() }).await;
        let started = Instant::now();

        let mut sock =
            send(s.server.addr(), format!("{}{{\"na", post_head("/atoms/v1/agent", 100, "")).as_bytes()).await;
        let r = read_response(&mut sock).await;

        assert_eq!(r.status, 408, "journal {journal_capacity}: {r:?}");
        assert!(started.elapsed() >= Duration::from_millis(200), "not before the timeout");
        assert!(r.head.to_ascii_lowercase().contains("content-type: application/json"), "{}", r.head);
        assert_eq!(r.body["status"], false);
        assert!(r.body["errors"][0].as_str().is_some_and(|m| m.starts_with("Request timeout")), "{:?}", r.body);
        assert_eq!(s.get("/agent", KEY).await.body["data"]["totalCount"], 0, "nothing was created");
    }
}

#[tokio::test]
async fn a_stalled_multipart_upload_gets_408_too() {
    let s = server(10.0, 0.2, 60.0).await;
    let head = "POST /atoms/v1/audience HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_t\r\n\
                Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 500\r\n\r\n--XyZ\r\n";

    let mut sock = send(s.server.addr(), head.as_bytes()).await;

    let r = read_response(&mut sock).await;
    assert_eq!((r.status, &r.body["status"]), (408, &json!(false)), "{r:?}");
}

#[tokio::test]
async fn a_stalled_media_upload_gets_408_like_the_other_multipart_routes() {
    let s = server(10.0, 0.2, 60.0).await;
    let head = "POST /atoms/v1/knowledgebase/0123456789abcdef01234567/items/upload-media HTTP/1.1\r\nHost: x\r\n\
                Authorization: Bearer sk_t\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\
                Content-Length: 500\r\n\r\n--XyZ\r\n";

    let mut sock = send(s.server.addr(), head.as_bytes()).await;

    let r = read_response(&mut sock).await;
    assert_eq!((r.status, &r.body["status"]), (408, &json!(false)), "{r:?}");
    assert!(r.body["errors"][0].as_str().is_some_and(|m| m.starts_with("Request timeout")), "{:?}", r.body);
}

#[tokio::test]
async fn a_request_head_that_stalls_is_cut_at_the_header_timeout() {
    let s = server(0.2, 10.0, 60.0).await;
    let mut sock = send(s.server.addr(), b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
    assert!(closed(&mut sock).await, "the half-sent head was cut");
    // A complete head in time is served as usual.
    let mut sock = send(s.server.addr(), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(read_response(&mut sock).await.status, 200);
}

#[tokio::test]
async fn idle_connections_are_closed_at_the_idle_timeout_but_open_streams_are_not() {
    let s = server(10.0, 10.0, 0.3).await;
    let mut silent = send(s.server.addr(), b"").await;
    let mut kept_alive = send(s.server.addr(), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(read_response(&mut kept_alive).await.status, 200);
    let agent_id = agent(&s, KEY, "idle").await;
    let call_id = outbound(&s, KEY, &agent_id, "+14155550123", None).await;
    let events =
        format!("GET /atoms/v1/events?callId={call_id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\r\n");
    let mut stream = send(s.server.addr(), events.as_bytes()).await;
    let mut first = vec![0; 4096];
    let n = tokio::time::timeout(WAIT, stream.read(&mut first)).await.expect("in time").expect("read");
    assert!(String::from_utf8_lossy(&first[..n]).contains("sse_init"));

    assert!(closed(&mut silent).await, "a connection that never sent a request");
    assert!(closed(&mut kept_alive).await, "a kept-alive connection after its request");
    // The stream sends nothing on a still virtual clock, yet stays open
    // well past the idle timeout: a bounded read runs out instead.
    let quiet = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut first)).await;
    assert!(quiet.is_err(), "the open stream was not cut: {quiet:?}");
}

/// A body the handler never reads (a route that ignores it, a non-JSON
/// body on `/atoms/v1`, a refused token, a path without a route) is still
/// read before the answer, as Express reads every body first, so the
/// connection serves the client's next request. Without the drain hyper
/// closes a connection with bytes left on it, and a client that already
/// reuses it sees a reset.
#[tokio::test]
async fn an_unread_body_is_read_before_the_answer_so_the_connection_serves_the_next_request() {
    // The journal reads bodies to record them; without it the connection does.
    for journal_capacity in [0, atoms_mock::journal::DEFAULT_CAPACITY] {
        unread_bodies_are_drained(TestServer::with_config(Config { journal_capacity, ..Config::for_tests() }).await)
            .await;
    }
}

async fn unread_bodies_are_drained(s: TestServer) {
    let body = r#"{"type":"single_prompt","singlePromptConfig":{"prompt":"hi"}}"#;
    let cases = [
        ("PATCH", "/atoms/v1/workflow/60d0fe4f5311236168a109ca", "application/json", true, 400),
        ("POST", "/atoms/v1/agent", "text/plain", true, 400),
        ("POST", "/atoms/v1/agent", "application/json", false, 401),
        ("POST", "/atoms/v1/no-such-route", "application/json", true, 404),
    ];
    for (method, path, content_type, auth, status) in cases {
        let auth = if auth { format!("Authorization: Bearer {KEY}\r\n") } else { String::new() };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut sock = send(s.server.addr(), head.as_bytes()).await;
        let early = tokio::time::timeout(Duration::from_millis(200), sock.read(&mut [0; 1])).await;
        assert!(early.is_err(), "{method} {path}: answered before its body arrived: {early:?}");

        sock.write_all(body.as_bytes()).await.expect("body");
        assert_eq!(read_response(&mut sock).await.status, status, "{method} {path}");
        sock.write_all(
            format!("GET /atoms/v1/user HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n\r\n").as_bytes(),
        )
        .await
        .expect("next request");
        assert_eq!(read_response(&mut sock).await.status, 200, "{method} {path}: the next request on the connection");
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_gets_413_before_the_body_is_sent() {
    let s = TestServer::start().await;
    for extra in ["", "Expect: 100-continue\r\n"] {
        let mut sock = send(s.server.addr(), post_head("/atoms/v1/agent", 2 * 1024 * 1024, extra).as_bytes()).await;

        let r = read_response(&mut sock).await;

        assert_eq!(r.status, 413, "no 100 Continue first ({extra:?}): {r:?}");
        assert_eq!(
            r.body,
            json!({"status": false, "errors": ["Request body too large: 2097152 bytes declared, the limit is 1048576 bytes"]})
        );
    }
    // The audience routes take larger uploads, but not past their own limit.
    let mut sock = send(s.server.addr(), post_head("/atoms/v1/audience", 6 * 1024 * 1024, "").as_bytes()).await;
    assert_eq!(read_response(&mut sock).await.status, 413);
    let entry = &s.admin(Method::GET, "/journal?method=POST&pathPrefix=/agent", None).await.body["entries"][0];
    assert_eq!(entry["request"]["body"], json!({"text": "", "size": 2 * 1024 * 1024, "truncated": true}));
}

#[tokio::test]
async fn a_head_over_16_kib_gets_431_in_the_envelope() {
    let s = TestServer::start().await;
    let r =
        s.http.get(format!("{}/agent", s.base())).bearer_auth(KEY).header("x-big", "a".repeat(17 * 1024)).send().await;
    let r = r.expect("answered");
    assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body, json!({"status": false, "errors": ["Request header fields too large: the limit is 16384 bytes"]}));
    // A long URL counts too (Node.js answers 431 for it as well).
    let r = s.get(&format!("/agent?q={}", "a".repeat(17 * 1024)), KEY).await;
    assert_eq!((r.status, r.body["status"].clone()), (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, json!(false)));
}

#[tokio::test]
async fn more_header_fields_than_hyper_parses_get_its_bodiless_431() {
    let s = TestServer::start().await;
    let fields: String = (0..120).map(|i| format!("x-h{i}: v\r\n")).collect();
    let mut sock = send(s.server.addr(), format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{fields}\r\n").as_bytes()).await;
    let r = read_response(&mut sock).await;
    assert_eq!((r.status, r.body), (431, Value::Null), "documented: hyper answers this one itself");
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_with_a_stalled_client_a_stream_a_websocket_and_a_long_poll_exits_0_within_the_grace_period() {
    let grace = Duration::from_secs(2);
    let (mut child, addr) =
        spawn_binary(&["--shutdown-grace-secs", "2", "--body-timeout-secs", "600", "--header-timeout-secs", "600"])
            .await;
    let http = reqwest::Client::new();
    let api = format!("http://{addr}/atoms/v1");
    let created: Value = http
        .post(format!("{api}/agent"))
        .bearer_auth(KEY)
        .json(&json!({"name": "bye"}))
        .send()
        .await
        .expect("agent")
        .json()
        .await
        .expect("json");
    let agent_id = created["data"].as_str().expect("id").to_string();
    let call: Value = http
        .post(format!("{api}/conversation/outbound"))
        .bearer_auth(KEY)
        .json(&json!({"agentId": agent_id, "phoneNumber": "+14155550123"}))
        .send()
        .await
        .expect("call")
        .json()
        .await
        .expect("json");
    let call_id = call["data"]["conversationId"].as_str().expect("callId").to_string();

    // A journal long-poll, registered before the signal.
    let poll = tokio::spawn({
        let url = format!("http://{addr}/_admin/journal/wait?pathPrefix=/never&timeoutMs=120000");
        let http = http.clone();
        async move { http.get(url).send().await.expect("long-poll answered") }
    });
    let registered = async {
        loop {
            let j: Value = http
                .get(format!("http://{addr}/_admin/journal?limit=0"))
                .send()
                .await
                .expect("journal")
                .json()
                .await
                .expect("json");
            if j["waiting"] == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(WAIT, registered).await.expect("the long-poll is registered before the signal");
    // An SSE stream with sse_init read.
    let res = http.get(format!("{api}/events?callId={call_id}")).bearer_auth(KEY).send().await.expect("events");
    let mut sse = res.bytes_stream();
    let init = tokio::time::timeout(WAIT, sse.next()).await.expect("init").expect("chunk").expect("bytes");
    assert!(String::from_utf8_lossy(&init).contains("sse_init"));
    // A realtime session with session.created read.
    let url = format!("ws://{addr}/atoms/v1/agent/connect?token={KEY}&agent_id={agent_id}&mode=chat");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
    let created = tokio::time::timeout(WAIT, ws.next()).await.expect("created").expect("frame").expect("ok");
    assert!(created.to_text().expect("text").contains("session.created"));
    // A client stalled in the middle of its body; the server's `100
    // Continue` shows the request is in flight (its body is being read).
    let mut stalled = send(addr, post_head("/atoms/v1/agent", 100, "Expect: 100-continue\r\n").as_bytes()).await;
    let mut continued = [0; 25];
    tokio::time::timeout(WAIT, stalled.read_exact(&mut continued)).await.expect("in time").expect("read");
    assert_eq!(&continued, b"HTTP/1.1 100 Continue\r\n\r\n");
    stalled.write_all(b"{\"na").await.expect("part of the body");

    let signalled = Instant::now();
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id().expect("pid")).expect("pid fits"));
    rustix::process::kill_process(pid.expect("a pid"), rustix::process::Signal::TERM).expect("SIGTERM sent");
    let status = tokio::time::timeout(grace + Duration::from_secs(3), child.wait()).await.expect("exited in time");

    assert!(status.expect("status").success(), "exit code 0");
    assert!(signalled.elapsed() >= grace, "the stalled client held the server until the grace period ended");
    let poll = poll.await.expect("join");
    assert_eq!(poll.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(poll.json::<Value>().await.expect("json"), json!({"status": false, "errors": ["Server shutting down"]}));
    let mut rest = Vec::new();
    while let Some(Ok(chunk)) =
        tokio::time::timeout(WAIT, sse.next()).await.expect("stream ends").map(|c| c.map(|b| b.to_vec()))
    {
        rest.extend(chunk);
    }
    assert!(String::from_utf8_lossy(&rest).contains("\"event_type\":\"sse_close\""), "R127 on shutdown");
    let mut frames = Vec::new();
    while let Some(Ok(m)) = tokio::time::timeout(WAIT, ws.next()).await.expect("socket ends") {
        frames.push(m);
    }
    let closing: Vec<String> = frames.iter().filter_map(|m| m.to_text().ok().map(str::to_string)).collect();
    assert!(closing.iter().any(|t| t.contains(r#""type":"session.closed","reason":"ended""#)), "{closing:?}");
    let close = frames.iter().find_map(|m| match m {
        Message::Close(Some(f)) => Some(u16::from(f.code)),
        _ => None,
    });
    assert_eq!(close, Some(1001), "going away");
    assert!(closed(&mut stalled).await, "the stalled client was dropped");
    let _ = ws.close(None).await;
}
