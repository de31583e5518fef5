//! The dispatcher: follows the lifecycle bus and POSTs each milestone to
//! the webhooks subscribed to it (BEHAVIOR R144–R157).
//!
//! - **Following.** One task reads the bus by sequence number. It never
//!   skips an event: on `Lagged` it re-subscribes from the last sequence
//!   it handled and replays the gap from the bus's log. Routing is
//!   synchronous (look up targets, build, serialize once, sign, log,
//!   enqueue), so the follower is never held up by a receiver.
//! - **Lanes.** Each `(webhook, call)` pair gets its own worker task,
//!   created on demand and ended when idle. A lane sends its events one at
//!   a time, so one receiver sees a call's three events in order, each
//!   after the previous one was answered or failed (R148); a slow, hanging
//!   or dead receiver only holds up its own lanes, never the API, other
//!   receivers or other calls.
//! - **Bound.** At most `queue` deliveries per webhook may be queued or in
//!   flight at once. When a webhook is at its bound, a new delivery is not
//!   sent: it is logged at once as `FAILED` with the error
//!   `queue full: …` (no event is held in memory without bound).
//! - **Failure.** A 2xx answer succeeds; anything else, a network error
//!   or the timeout (30 s, R146) fails. By default nothing is retried.
//!   With `--webhook-retries N` (a mock extension) a failed delivery is
//!   retried up to N times, retry `n` falling due `retry_delay(n)` after
//!   the failed attempt started, on the mock's clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use super::log::{Attempt, Delivery, DeliveryLog, DeliveryResult, OutgoingRequest, RESPONSE_SNIPPET};
use super::payload;
use crate::calls::Calls;
use crate::domain::webhook::{retry_delay, EventType};
use crate::events::Lifecycle;
use crate::store::Store;

/// Delivery settings, from `Config`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Per-attempt timeout, wall-clock (the platform's is 30 s).
    pub timeout: Duration,
    /// Opt-in retries after a failed attempt (0 = the platform's behaviour).
    pub retries: u32,
    /// Most deliveries queued or in flight per webhook.
    pub queue: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(30), retries: 0, queue: 256 }
    }
}

impl Settings {
    /// The settings `--webhook-timeout-ms`, `--webhook-retries` and
    /// `--webhook-queue` ask for (a zero timeout or queue counts as 1).
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            timeout: Duration::from_millis(config.webhook_timeout_ms.max(1)),
            retries: config.webhook_retries,
            queue: config.webhook_queue.max(1),
        }
    }
}

#[derive(Debug)]
struct Job {
    delivery_id: String,
    webhook_id: String,
    request: OutgoingRequest,
}

type LaneKey = (String, String);

/// Delivers call milestones to subscribed webhooks and keeps the log.
#[derive(Debug)]
pub struct Dispatcher {
    store: Arc<Store>,
    calls: Arc<Calls>,
    settings: Settings,
    /// See [`Dispatcher::client`].
    http: std::sync::OnceLock<reqwest::Client>,
    log: DeliveryLog,
    lanes: Mutex<HashMap<LaneKey, mpsc::UnboundedSender<Job>>>,
    pending: Mutex<HashMap<String, usize>>,
    shutdown: watch::Receiver<bool>,
}

impl Dispatcher {
    /// A dispatcher for `calls`' bus; it stops when `shutdown` turns true.
    pub fn new(store: Arc<Store>, calls: Arc<Calls>, settings: Settings, shutdown: watch::Receiver<bool>) -> Self {
        Self {
            store,
            calls,
            settings,
            http: std::sync::OnceLock::new(),
            log: DeliveryLog::default(),
            lanes: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            shutdown,
        }
    }

    /// The HTTP client, built on the first delivery: most starts never
    /// deliver, and building it pages in code a start does not need.
    fn client(&self) -> &reqwest::Client {
        self.http.get_or_init(reqwest::Client::new)
    }

    /// The delivery log.
    pub fn log(&self) -> &DeliveryLog {
        &self.log
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Spawns the task that follows the bus from its first event; it ends
    /// on shutdown.
    pub fn start(self: &Arc<Self>) -> JoinHandle<()> {
        tokio::spawn(Arc::clone(self).follow())
    }

    async fn follow(self: Arc<Self>) {
        let bus = Arc::clone(self.calls.bus());
        let mut shutdown = self.shutdown.clone();
        let mut last = 0u64;
        'subscribe: loop {
            let (replay, mut rx) = bus.subscribe_from(last);
            if replay.first().is_some_and(|e| e.seq > last + 1) {
                tracing::warn!(from = last + 1, to = replay[0].seq - 1, "lifecycle events fell out of the replay log");
            }
            for ev in replay {
                last = last.max(ev.seq);
                self.route(&ev);
            }
            loop {
                let msg = tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => return,
                    m = rx.recv() => m,
                };
                match msg {
                    Ok(ev) if ev.seq > last => {
                        last = ev.seq;
                        self.route(&ev);
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => continue 'subscribe,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }

    /// Builds, signs, logs and enqueues one delivery per subscribed
    /// webhook of the milestone's agent. Nothing is delivered (nor logged)
    /// while the organization's plan lacks the `webhooks` feature (design
    /// d11a §2.5).
    fn route(self: &Arc<Self>, ev: &Lifecycle) {
        let event = EventType::from(ev.milestone);
        let Some(t) = self.store.find_tenant(&ev.api_key) else { return };
        if t.account().require(crate::domain::plan::Feature::Webhooks).is_err() {
            return;
        }
        let targets = t.webhooks().targets(&ev.call.agent_id, event);
        if targets.is_empty() {
            return;
        }
        let metadata = payload::metadata(event, &ev.call, &self.calls.public_url());
        let now = self.store.clock().now();
        for tg in targets {
            let id = self.store.ids().object_id(now);
            let body = payload::body(&tg.url, &tg.description, &ev.call.agent_id, event, &metadata, &id);
            let mut headers = vec![
                ("Content-Type".to_string(), "application/json".to_string()),
                ("X-Signature".to_string(), payload::sign(&tg.secret, &body)),
            ];
            headers.extend(tg.headers);
            let request = OutgoingRequest { url: tg.url, headers, body: body.into() };
            self.log.insert(Delivery {
                id: id.clone(),
                seq: 0,
                webhook_id: tg.webhook_id.clone(),
                agent_id: ev.call.agent_id.clone(),
                call_id: ev.call.call_id.clone(),
                event: event.as_str(),
                created_at: now,
                request: request.clone(),
                result: DeliveryResult::Pending,
                attempts: Vec::new(),
                next_attempt_at: None,
                error: None,
            });
            self.enqueue(Job { delivery_id: id, webhook_id: tg.webhook_id, request }, &ev.call.call_id);
        }
    }

    fn enqueue(self: &Arc<Self>, job: Job, call_id: &str) {
        if !self.admit(&job.webhook_id) {
            let msg = format!(
                "queue full: {} deliveries of this webhook are already queued or in flight; not sent",
                self.settings.queue
            );
            self.log.update(&job.delivery_id, |d| {
                d.result = DeliveryResult::Failed;
                d.error = Some(msg);
            });
            return;
        }
        let key = (job.webhook_id.clone(), call_id.to_string());
        let mut lanes = self.lanes.lock();
        let job = match lanes.get(&key) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        lanes.insert(key.clone(), tx);
        drop(lanes);
        tokio::spawn(Arc::clone(self).run_lane(key, rx));
    }

    fn admit(&self, webhook_id: &str) -> bool {
        let mut pending = self.pending.lock();
        let n = pending.entry(webhook_id.to_string()).or_insert(0);
        if *n >= self.settings.queue {
            return false;
        }
        *n += 1;
        true
    }

    fn release(&self, webhook_id: &str) {
        let mut pending = self.pending.lock();
        if let Some(n) = pending.get_mut(webhook_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                pending.remove(webhook_id);
            }
        }
    }

    /// Works one lane until it is empty. The emptiness check and the
    /// lane's removal happen under the lanes lock, which `enqueue` also
    /// holds, so no job is left behind.
    async fn run_lane(self: Arc<Self>, key: LaneKey, mut rx: mpsc::UnboundedReceiver<Job>) {
        loop {
            let next = match rx.try_recv() {
                Ok(job) => Some(job),
                Err(_) => {
                    let mut lanes = self.lanes.lock();
                    let job = rx.try_recv().ok();
                    if job.is_none() {
                        lanes.remove(&key);
                    }
                    job
                }
            };
            let Some(job) = next else { return };
            self.deliver(&job).await;
            self.release(&job.webhook_id);
        }
    }

    /// Attempts one delivery until it succeeds, fails for good, or the
    /// server shuts down.
    async fn deliver(&self, job: &Job) {
        let mut number = 1;
        loop {
            let mut shutdown = self.shutdown.clone();
            let attempt = tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                a = self.deliver_once(&job.request, number) => a,
            };
            let ok = attempt.ok();
            let next_at = (!ok && number <= self.settings.retries).then(|| attempt.started_at + retry_delay(number));
            self.log.update(&job.delivery_id, |d| {
                d.attempts.push(attempt);
                d.next_attempt_at = next_at;
                if next_at.is_none() {
                    d.result = if ok { DeliveryResult::Succeeded } else { DeliveryResult::Failed };
                }
            });
            let Some(at) = next_at else { return };
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                () = self.store.clock().sleep(at) => {}
            }
            number += 1;
        }
    }

    /// One POST of `req` (attempt `number`): the status, wall-clock
    /// latency, error and the first [`RESPONSE_SNIPPET`] bytes of the
    /// answer. Never fails; failures are described in the attempt.
    pub async fn deliver_once(&self, req: &OutgoingRequest, number: u32) -> Attempt {
        let started_at = self.store.clock().now();
        let t0 = Instant::now();
        let mut rb = self.client().post(&req.url).timeout(self.settings.timeout).body(req.body.to_vec());
        for (k, v) in &req.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let (status, error, response, truncated) = match rb.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let (body, truncated, read_err) = snippet(res).await;
                let error = if (200..300).contains(&status) {
                    read_err
                } else {
                    Some(format!("non-2xx response: HTTP {status}"))
                };
                (Some(status), error, Some(body), truncated)
            }
            Err(e) => (None, Some(self.describe(&e)), None, false),
        };
        let latency_ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        Attempt { number, started_at, status, latency_ms, error, response, truncated }
    }

    fn describe(&self, e: &reqwest::Error) -> String {
        use std::error::Error as _;
        if e.is_timeout() {
            return format!("timeout: no response within {} ms", self.settings.timeout.as_millis());
        }
        let mut msg = if e.is_connect() { "connection failed".to_string() } else { "request failed".to_string() };
        let mut src = e.source();
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        msg
    }

    /// Sends a logged delivery again now, with the exact same bytes and
    /// headers, as one more attempt on the same entry, and waits for the
    /// outcome. `None` if the id is not in the log.
    pub async fn redeliver(&self, delivery_id: &str) -> Option<Delivery> {
        let d = self.log.get(delivery_id)?;
        let number = u32::try_from(d.attempts.len()).unwrap_or(u32::MAX).saturating_add(1);
        let attempt = self.deliver_once(&d.request, number).await;
        self.log.update(delivery_id, |d| {
            d.result = if attempt.ok() { DeliveryResult::Succeeded } else { DeliveryResult::Failed };
            d.next_attempt_at = None;
            d.attempts.push(attempt);
        });
        self.log.get(delivery_id)
    }
}

/// Reads at most [`RESPONSE_SNIPPET`] bytes of the answer: the text, cut
/// or not, and any error while reading.
async fn snippet(mut res: reqwest::Response) -> (String, bool, Option<String>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut truncated = false;
    let mut error = None;
    loop {
        match res.chunk().await {
            Ok(Some(c)) => {
                buf.extend_from_slice(&c);
                if buf.len() > RESPONSE_SNIPPET {
                    buf.truncate(RESPONSE_SNIPPET);
                    truncated = true;
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                error = Some(format!("reading the response failed: {e}"));
                break;
            }
        }
    }
    (String::from_utf8_lossy(&buf).into_owned(), truncated, error)
}
