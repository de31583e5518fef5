//! Fan-out load driver for `scripts/bench_fanout.py`: many concurrent
//! subscribers of one call's event stream, or many concurrent realtime chat
//! sessions, against a running mock on 127.0.0.1. It measures; it asserts
//! nothing.
//!
//! ```text
//! fanout sse ADDR KEY CALL_ID N [--advance SECONDS] [--hold] [--timeout-secs S]
//! fanout ws  ADDR KEY AGENT_ID N [--hold] [--timeout-secs S]
//! ```
//!
//! `ADDR` is `127.0.0.1:PORT`, `KEY` an API key of the organization that
//! owns the call or agent.
//!
//! * `sse`: opens `N` raw-socket subscribers of `GET
//!   /atoms/v1/events?callId=CALL_ID` (at most [`OPENING`] handshakes in
//!   flight, so the listener's backlog never overflows). A subscriber counts
//!   as connected once its `sse_init` frame arrives. Then (after `--hold`, see
//!   below) it calls `POST /_admin/clock/advance` with `--advance` seconds
//!   (default 900; 0 skips it, for a real clock) so that the call's events are
//!   released, and waits until every subscriber has seen `sse_close`.
//!   Afterwards it reads the call log (`GET /atoms/v1/conversation/CALL_ID`),
//!   keeps the event types the stream carries (`streamed`, BEHAVIOR R129:
//!   the log's `llm_full_response_end` is not on the stream) and counts the
//!   subscribers whose frames between `sse_init` and `sse_close` have exactly
//!   the log's event types in the log's order.
//!
//!   Delivery latency is measured for every frame a subscriber received
//!   after the advance started, as its arrival time minus the first arrival of
//!   the same frame (by position in the stream) at any subscriber: the lag the
//!   fan-out adds on top of publishing. With a virtual clock the publishing
//!   instant itself is not observable from outside (every event of the call
//!   is published during one advance), so the figure printed next to it,
//!   `advance → last sse_close`, bounds the whole burst.
//! * `ws`: opens `N` realtime chat sessions (`GET
//!   /atoms/v1/agent/connect?mode=chat`, WebSocket), each waiting for the
//!   agent's greeting (its first assistant `transcript`); then (after
//!   `--hold`) every session sends one `input_text.send` at once and the
//!   driver measures the time from that send to the assistant's `transcript`
//!   of the reply (the turn latency, including the scenario's own thinking
//!   time), then closes the session.
//!
//! `--hold`: after connecting, print the `open` line and wait for one line on
//! standard input before going on, so a caller can sample the server's memory
//! with every connection open and idle.
//!
//! Output: one JSON object per line on standard output, `{"phase": "open",
//! ...}` once every connection is open or has failed, then `{"phase":
//! "done", ...}` with the figures (latencies in ms). Failures are counted by
//! kind (`failures`), never panicked on. `--timeout-secs` (default 300)
//! bounds the whole run: whatever has not finished by then counts as failed.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atoms_mock::domain::event_stream::streamed;
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::error::Elapsed;
use tokio::time::{timeout_at, Instant as Deadline};
use tokio_tungstenite::tungstenite::Message;

/// Handshakes in flight at once.
const OPENING: usize = 256;

#[derive(Parser)]
#[command(about = "Fan-out load driver for atoms-mock (see the module docs)")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
    /// Give up on whatever has not finished after this many seconds.
    #[arg(long, default_value_t = 300, global = true)]
    timeout_secs: u64,
    /// Wait for a line on stdin after every connection is open.
    #[arg(long, global = true)]
    hold: bool,
}

#[derive(Subcommand)]
enum Mode {
    /// N subscribers of one call's `GET /events` stream.
    Sse {
        addr: String,
        key: String,
        call_id: String,
        n: usize,
        /// Seconds to advance the virtual clock by once all are subscribed (0: none).
        #[arg(long, default_value_t = 900.0)]
        advance: f64,
    },
    /// N realtime chat sessions, one turn each.
    Ws { addr: String, key: String, agent_id: String, n: usize },
}

/// Failures by kind.
#[derive(Default)]
struct Failures(BTreeMap<String, usize>);

impl Failures {
    fn add(&mut self, kind: impl Into<String>) {
        *self.0.entry(kind.into()).or_default() += 1;
    }
}

/// The `p`-quantile (0–1, nearest rank) of `v` in ms, or `null` when empty.
fn quantile_ms(v: &mut [u64], p: f64) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_unstable();
    // The product is within 0..len, so the cast neither truncates nor wraps.
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    json!(v[i] as f64 / 1000.0)
}

fn latency_summary(mut us: Vec<u64>) -> Value {
    json!({
        "samples": us.len(),
        "p50": quantile_ms(&mut us, 0.5),
        "p99": quantile_ms(&mut us, 0.99),
        "max": quantile_ms(&mut us, 1.0),
    })
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// A connection's task: its result, or `Elapsed` past the run's deadline.
type Task<T> = JoinHandle<Result<Result<T, String>, Elapsed>>;

/// The results of the tasks that succeeded; the others counted in `failures`.
async fn join<T>(tasks: Vec<Task<T>>, failures: &mut Failures) -> Vec<T> {
    let mut done = Vec::with_capacity(tasks.len());
    for t in tasks {
        match t.await {
            Ok(Ok(Ok(v))) => done.push(v),
            Ok(Ok(Err(e))) => failures.add(e),
            Ok(Err(_)) => failures.add("timed out"),
            Err(_) => failures.add("task panicked"),
        }
    }
    done
}

/// Waits for one line on stdin (or its end).
async fn wait_for_go() {
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new())).await;
}

/// Counts the `ok` messages of `n` tasks that each report once whether they
/// opened; a task that ended without reporting counts as failed.
async fn count_open(rx: &mut mpsc::Receiver<bool>, n: usize) -> usize {
    let mut open = 0;
    for _ in 0..n {
        match rx.recv().await {
            Some(true) => open += 1,
            Some(false) => {}
            None => break,
        }
    }
    open
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let deadline = Deadline::now() + Duration::from_secs(cli.timeout_secs);
    let out = match cli.mode {
        Mode::Sse { addr, key, call_id, n, advance } => {
            sse(SseRun { addr, key, call_id, n, advance, hold: cli.hold, deadline }).await
        }
        Mode::Ws { addr, key, agent_id, n } => ws(&addr, &key, &agent_id, n, cli.hold, deadline).await,
    };
    println!("{out}");
}

// ---- SSE ----

struct SseRun {
    addr: String,
    key: String,
    call_id: String,
    n: usize,
    advance: f64,
    hold: bool,
    deadline: Deadline,
}

/// What one subscriber saw between `sse_init` and `sse_close`.
struct Seen {
    /// Event types in order, hashed; compared with the call log's.
    types: u64,
    events: usize,
    /// Arrival of each frame, µs since the run started, by position.
    arrivals: Vec<u64>,
}

/// An open subscription: the response is 200 and `sse_init` has arrived.
type Stream = BufReader<TcpStream>;

async fn subscribe(addr: &str, key: &str, call_id: &str) -> Result<Stream, String> {
    let mut sock = TcpStream::connect(addr).await.map_err(|e| format!("connect: {}", e.kind()))?;
    let request = format!(
        "GET /atoms/v1/events?callId={call_id} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\r\n"
    );
    sock.write_all(request.as_bytes()).await.map_err(|e| format!("send: {}", e.kind()))?;
    let mut stream = BufReader::new(sock);
    let mut line = String::new();
    stream.read_line(&mut line).await.map_err(|e| format!("read: {}", e.kind()))?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(format!("status: {}", line.trim()));
    }
    match next_event(&mut stream, &mut line).await? {
        Some(t) if t == "sse_init" => Ok(stream),
        Some(t) => Err(format!("first event {t}")),
        None => Err("ended before sse_init".into()),
    }
}

/// The `event_type` of the next `data:` frame, skipping chunk sizes, blank
/// lines and comments; `None` at the end of the stream.
async fn next_event(stream: &mut Stream, line: &mut String) -> Result<Option<String>, String> {
    loop {
        line.clear();
        if stream.read_line(line).await.map_err(|e| format!("read: {}", e.kind()))? == 0 {
            return Ok(None);
        }
        if let Some(data) = line.strip_prefix("data: ") {
            let v: Value = serde_json::from_str(data.trim()).map_err(|_| "frame is not JSON".to_string())?;
            return Ok(Some(v.get("event_type").and_then(Value::as_str).unwrap_or("(none)").to_string()));
        }
    }
}

async fn follow(mut stream: Stream, t0: Instant) -> Result<Seen, String> {
    let mut line = String::new();
    let mut hasher = DefaultHasher::new();
    let mut seen = Seen { types: 0, events: 0, arrivals: Vec::new() };
    loop {
        let event = next_event(&mut stream, &mut line).await?.ok_or("ended before sse_close")?;
        seen.arrivals.push(micros(t0));
        if event == "sse_close" {
            seen.types = hasher.finish();
            return Ok(seen);
        }
        event.hash(&mut hasher);
        seen.events += 1;
    }
}

/// The call log's event types that the stream carries, hashed as
/// [`follow`] hashes them, and their count.
async fn expected_events(run: &SseRun) -> Result<(u64, usize), String> {
    let url = format!("http://{}/atoms/v1/conversation/{}", run.addr, run.call_id);
    let body: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(&run.key)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("call log: {e}"))?
        .json()
        .await
        .map_err(|e| format!("call log: {e}"))?;
    let events = body["data"]["events"].as_array().ok_or("call log: no data.events")?;
    let mut hasher = DefaultHasher::new();
    let mut count = 0;
    for t in events.iter().filter_map(|e| e["event_type"].as_str()).filter(|t| streamed(t)) {
        t.hash(&mut hasher);
        count += 1;
    }
    Ok((hasher.finish(), count))
}

async fn advance_clock(addr: &str, seconds: f64) -> Result<(), String> {
    reqwest::Client::new()
        .post(format!("http://{addr}/_admin/clock/advance"))
        .json(&json!({ "seconds": seconds }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map(drop)
        .map_err(|e| format!("advance: {e}"))
}

async fn sse(run: SseRun) -> Value {
    let t0 = Instant::now();
    let opening = Arc::new(Semaphore::new(OPENING));
    let (ready_tx, mut ready_rx) = mpsc::channel(run.n.max(1));
    let mut tasks = Vec::with_capacity(run.n);
    for _ in 0..run.n {
        let (opening, ready_tx) = (Arc::clone(&opening), ready_tx.clone());
        let (addr, key, call_id) = (run.addr.clone(), run.key.clone(), run.call_id.clone());
        tasks.push(tokio::spawn(timeout_at(run.deadline, async move {
            let permit = opening.acquire_owned().await.map_err(|_| "closed".to_string())?;
            let opened = subscribe(&addr, &key, &call_id).await;
            drop(permit);
            let _ = ready_tx.send(opened.is_ok()).await;
            follow(opened?, t0).await
        })));
    }
    drop(ready_tx);
    let open = count_open(&mut ready_rx, run.n).await;
    println!("{}", json!({"phase": "open", "subscribers": open, "secs": t0.elapsed().as_secs_f64()}));
    if run.hold {
        wait_for_go().await;
    }
    let advanced_at = micros(t0);
    let mut failures = Failures::default();
    if run.advance > 0.0 {
        if let Err(e) = advance_clock(&run.addr, run.advance).await {
            failures.add(e);
        }
    }
    let seen = join(tasks, &mut failures).await;
    let burst_ms =
        seen.iter().filter_map(|s| s.arrivals.last()).max().map(|&l| l.saturating_sub(advanced_at) as f64 / 1000.0);
    let (complete, expected) = match expected_events(&run).await {
        Ok((types, count)) => (seen.iter().filter(|s| s.types == types && s.events == count).count(), json!(count)),
        Err(e) => {
            failures.add(e);
            (0, Value::Null)
        }
    };
    json!({
        "phase": "done",
        "subscribers": run.n,
        "open": open,
        "finished": seen.len(),
        "complete": complete,
        "expected_events": expected,
        "events_min": seen.iter().map(|s| s.events).min(),
        "events_max": seen.iter().map(|s| s.events).max(),
        "fanout_lag_ms": latency_summary(fanout_lags(&seen, advanced_at)),
        "advance_to_last_close_ms": burst_ms,
        "failures": failures.0,
        "secs": t0.elapsed().as_secs_f64(),
    })
}

/// For every frame that arrived after `after` (µs), its arrival minus the
/// earliest arrival of the frame at the same position at any subscriber.
fn fanout_lags(seen: &[Seen], after: u64) -> Vec<u64> {
    let frames = seen.iter().map(|s| s.arrivals.len()).max().unwrap_or(0);
    let mut first = vec![u64::MAX; frames];
    for s in seen {
        for (f, &a) in first.iter_mut().zip(&s.arrivals) {
            *f = (*f).min(a);
        }
    }
    seen.iter().flat_map(|s| s.arrivals.iter().zip(&first).filter(|(&a, _)| a > after).map(|(&a, &f)| a - f)).collect()
}

// ---- WebSocket ----

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Whether `frame` is an assistant `transcript`; `Err` for a frame that
/// ends the session (`session.closed`, `error`).
fn assistant_transcript(frame: &str) -> Result<bool, String> {
    let v: Value = serde_json::from_str(frame).map_err(|_| "frame is not JSON".to_string())?;
    match v["type"].as_str() {
        Some("transcript") => Ok(v["role"] == "assistant"),
        Some(t @ ("session.closed" | "error")) => Err(t.to_string()),
        _ => Ok(false),
    }
}

async fn next_assistant_transcript(ws: &mut Socket) -> Result<(), String> {
    while let Some(m) = ws.next().await {
        match m.map_err(|e| format!("ws: {e}"))? {
            Message::Text(t) if assistant_transcript(&t)? => return Ok(()),
            Message::Close(_) => return Err("closed by server".into()),
            _ => {}
        }
    }
    Err("ended".into())
}

async fn open_session(url: &str) -> Result<Socket, String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| format!("connect: {e}"))?;
    next_assistant_transcript(&mut ws).await.map_err(|e| format!("greeting: {e}"))?;
    Ok(ws)
}

async fn turn(mut ws: Socket, mut go: watch::Receiver<bool>) -> Result<u64, String> {
    go.wait_for(|g| *g).await.map_err(|_| "driver stopped".to_string())?;
    let sent = Instant::now();
    let text = json!({"type": "input_text.send", "text": "What are your opening hours?"}).to_string();
    ws.send(Message::text(text)).await.map_err(|e| format!("send: {e}"))?;
    next_assistant_transcript(&mut ws).await.map_err(|e| format!("reply: {e}"))?;
    let us = micros(sent);
    let _ = ws.close(None).await;
    Ok(us)
}

async fn ws(addr: &str, key: &str, agent_id: &str, n: usize, hold: bool, deadline: Deadline) -> Value {
    let t0 = Instant::now();
    let url = format!("ws://{addr}/atoms/v1/agent/connect?token={key}&agent_id={agent_id}&mode=chat");
    let opening = Arc::new(Semaphore::new(OPENING));
    let (ready_tx, mut ready_rx) = mpsc::channel(n.max(1));
    let (go_tx, go_rx) = watch::channel(false);
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (opening, ready_tx, go, url) = (Arc::clone(&opening), ready_tx.clone(), go_rx.clone(), url.clone());
        tasks.push(tokio::spawn(timeout_at(deadline, async move {
            let permit = opening.acquire_owned().await.map_err(|_| "closed".to_string())?;
            let opened = open_session(&url).await;
            drop(permit);
            let _ = ready_tx.send(opened.is_ok()).await;
            turn(opened?, go).await
        })));
    }
    drop(ready_tx);
    let open = count_open(&mut ready_rx, n).await;
    println!("{}", json!({"phase": "open", "sessions": open, "secs": t0.elapsed().as_secs_f64()}));
    if hold {
        wait_for_go().await;
    }
    let _ = go_tx.send(true);
    let mut failures = Failures::default();
    let turns = join(tasks, &mut failures).await;
    json!({
        "phase": "done",
        "sessions": n,
        "open": open,
        "completed": turns.len(),
        "turn_ms": latency_summary(turns),
        "failures": failures.0,
        "secs": t0.elapsed().as_secs_f64(),
    })
}
