//! `GET /atoms/v1/events?callId=` — the live event stream of one call
//! (BEHAVIOR §F, R123–R133).
//!
//! Frames are `data: <json>\n\n` with no `event:` or `id:` lines. The
//! stream sends `sse_init` at once, then every event of the call so far
//! (replayed in order), then live events (only the spec's event types,
//! `domain::event_stream::streamed`, R129), then `sse_close` after
//! `call_end`, and ends. Idle streams get a `: keep-alive` comment every
//! 15 s of the mock's clock. Server shutdown ends every stream with
//! `sse_close` (R127: the frame before the server closes the stream).
//!
//! Finished calls: a call that has ended gives 400 `Call is already
//! completed` (R124, L-F4: the spec, newer than the events guide's
//! "recently completed"). With `--sse-replay-secs N` (a mock extension) a
//! subscriber within N s of the end still gets the full replay and
//! `sse_close` (`domain::event_stream`).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::http::routes::{router, OpenApiRouter};
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use bytes::Bytes;
use futures_util::stream;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use utoipa::IntoParams;

use crate::clock::Clock;
use crate::domain::event_stream::{streamed, subscribable};
use crate::domain::time::iso;
use crate::domain::DomainError;
use crate::events::{CallEvent, CallHub, HubMessage, Subscription};
use crate::http::error::{ApiError, ApiResult, Reply};
use crate::http::extract::{ApiQuery, Org};
use crate::state::AppState;

/// Keep-alive interval, ms of the mock's clock.
pub(crate) const KEEP_ALIVE_MS: i64 = 15_000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![stream_events]
}

/// Query of `GET /events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// The call to follow (`CALL-<ms>-<hex6>`).
    call_id: Option<String>,
}

pub(crate) use crate::domain::ids::is_call_id;

impl EventsQuery {
    /// The call to follow: 400 `callId: Required` (also when empty) or
    /// `Invalid callId` unless `CALL-<ms>-<hex6>`.
    fn call_id(self) -> ApiResult<String> {
        let id =
            self.call_id.filter(|c| !c.is_empty()).ok_or_else(|| ApiError::BadRequest("callId: Required".into()))?;
        if is_call_id(&id) {
            Ok(id)
        } else {
            Err(ApiError::BadRequest("Invalid callId".into()))
        }
    }
}

/// Subscribe to a call's live events (SSE). 400 for a missing or
/// malformed `callId` or a call that ended more than 60 s ago; 404 `Call
/// log not found` for unknown or foreign calls; 401 without auth.
#[utoipa::path(get, path = "/events", tag = "Live Transcripts", params(EventsQuery),
    responses((status = 200, description = "`text/event-stream` of `data: <json>` frames", content_type = "text/event-stream"),
              (status = 400, description = "Missing/invalid callId or call already completed"),
              (status = 404, description = "Call log not found")))]
async fn stream_events(State(s): State<AppState>, Org(t): Org, ApiQuery(q): ApiQuery<EventsQuery>) -> Reply {
    let (call, hub) = t
        .calls()
        .get(&q.call_id()?)
        .ok_or_else(|| ApiError::Rule(DomainError::NotFound("Call log not found".into())))?;
    let clock = s.store.clock().clone();
    if !subscribable(call.ended_at, clock.now(), s.config.sse_replay_ms()) {
        return Err(ApiError::BadRequest("Call is already completed".into()));
    }
    let body = Body::from_stream(event_stream(&hub, clock, s.shutdown.subscribe()));
    Ok(([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], body).into_response())
}

/// Whether `e` goes out on the stream (R129).
fn on_stream(e: &CallEvent) -> bool {
    streamed(&e.event_type)
}

fn lifecycle_frame(kind: &str, at: i64) -> Bytes {
    Bytes::from(format!("data: {}\n\n", json!({"event_type": kind, "event_time": iso(at)})))
}

struct StreamState {
    pending: VecDeque<Bytes>,
    sub: Option<Subscription>,
    last_seq: u64,
    hub: Arc<CallHub>,
    clock: Clock,
    shutdown: watch::Receiver<bool>,
    done: bool,
    /// One armed keep-alive timer, re-armed only when it fires.
    keep_alive: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

enum Next {
    Message(Result<HubMessage, RecvError>),
    KeepAlive,
    Shutdown,
}

fn event_stream(
    hub: &Arc<CallHub>,
    clock: Clock,
    shutdown: watch::Receiver<bool>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    let sub = hub.subscribe();
    let mut pending: VecDeque<Bytes> = VecDeque::with_capacity(sub.replay.len() + 2);
    pending.push_back(lifecycle_frame("sse_init", clock.now()));
    let last_seq = sub.replay.last().map_or(0, |e| e.seq);
    pending.extend(sub.replay.iter().filter(|e| on_stream(e)).map(|e| e.frame.clone()));
    if let Some(at) = sub.closed {
        pending.push_back(lifecycle_frame("sse_close", at));
    }
    let done = sub.closed.is_some();
    let keep_alive = Box::pin(clock.sleep(clock.now() + KEEP_ALIVE_MS));
    let state =
        StreamState { pending, sub: Some(sub), last_seq, hub: Arc::clone(hub), clock, shutdown, done, keep_alive };
    stream::unfold(state, |mut st| async move {
        loop {
            if let Some(frame) = st.pending.pop_front() {
                return Some((Ok(frame), st));
            }
            if st.done {
                return None;
            }
            let sub = st.sub.as_mut()?;
            // Biased: shutdown wins; events already published drain before
            // a keep-alive, so a comment never lands inside a burst.
            let next = tokio::select! {
                biased;
                _ = st.shutdown.wait_for(|stop| *stop) => Next::Shutdown,
                m = sub.rx.recv() => Next::Message(m),
                () = &mut st.keep_alive => Next::KeepAlive,
            };
            match next {
                Next::Message(Ok(HubMessage::Event(e))) if e.seq > st.last_seq => {
                    st.last_seq = e.seq;
                    if on_stream(&e) {
                        st.pending.push_back(e.frame.clone());
                    }
                }
                Next::Message(Ok(HubMessage::Event(_))) => {}
                Next::Message(Ok(HubMessage::Closed(at))) => {
                    st.pending.push_back(lifecycle_frame("sse_close", at));
                    st.done = true;
                }
                Next::Message(Err(RecvError::Closed)) => {
                    st.pending.push_back(lifecycle_frame("sse_close", st.clock.now()));
                    st.done = true;
                }
                Next::Message(Err(RecvError::Lagged(_))) => {
                    let (missed, closed) = st.hub.since(st.last_seq);
                    st.last_seq = missed.last().map_or(st.last_seq, |e| e.seq);
                    st.pending.extend(missed.iter().filter(|e| on_stream(e)).map(|e| e.frame.clone()));
                    if let Some(at) = closed {
                        st.pending.push_back(lifecycle_frame("sse_close", at));
                        st.done = true;
                    }
                }
                Next::KeepAlive => {
                    st.pending.push_back(Bytes::from_static(b": keep-alive\n\n"));
                    st.keep_alive = Box::pin(st.clock.sleep(st.clock.now() + KEEP_ALIVE_MS));
                }
                Next::Shutdown => {
                    st.pending.push_back(lifecycle_frame("sse_close", st.clock.now()));
                    st.done = true;
                }
            }
        }
    })
}
