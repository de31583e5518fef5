//! Every request's own work, in one layer ([`per_request`]) rather than
//! one layer each (every layer costs a clone of the inner service and a
//! boxed future per request). In order, outermost first:
//! - the request journal (`/atoms/v1` traffic only): records each request
//!   and its answer after everything below, so it sees `x-request-id`,
//!   401s, 404s, panics turned into 500s and injected faults;
//! - `x-request-id` (R011) and `charset=utf-8` on JSON (LIVE T1);
//! - a panic becomes a 500 envelope and the server keeps serving;
//! - 431/413 for an oversized head or declared body (`limits`);
//! - 507 for a write past the memory limit (`memory::MemoryLimit`);
//! - fault rules (`/atoms/v1` only), before auth: a fired rule answers (or
//!   delays) before any handler runs, so it changes no state.
//!
//! A request body is read once here and handed on as the same buffer (a
//! body past the 1 MiB cap is handed on as a stream, so the handler still
//! answers 413; a body whose declared `Content-Length` is over its route's
//! limit is not read at all, so it can be refused before it is sent; a
//! body that stalls hands the body timeout's error on, so the handler
//! answers 408). A response body is captured only when its size is known
//! (a full buffer), never for SSE, WebSocket upgrades or other streams.
//! The journal keeps at most 64 KiB of each: a request body is copied (a
//! shared one would pin the connection's whole read buffer); a response
//! body over 256 bytes that fits is shared with the answer (no copy), and
//! one equal to the last answer recorded for its path shares that buffer;
//! a longer one's start is copied.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::{Bytes, BytesMut};
use futures_util::{FutureExt, StreamExt};
use http_body_util::BodyExt;
use tower::{Layer, Service};

use super::error::{envelope, SHUTTING_DOWN};
use super::extract::{bearer, body_limit, content_length, BODY_LIMIT};
use super::{limits, API_PREFIX};
use crate::faults::Decision;
use crate::journal::{Captured, Entry, Text, BODY_CAPTURE};
use crate::memory;
use crate::state::AppState;

/// Marks a response shaped by a fault rule (for the journal).
#[derive(Debug, Clone)]
struct FaultHit(std::sync::Arc<str>);

fn is_api(path: &str) -> bool {
    path.strip_prefix(API_PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A router with the default body limit ([`BODY_LIMIT`]; routes with a
/// layer of their own keep theirs) set once around it rather than per route.
type Limited = <DefaultBodyLimit as Layer<Router>>::Service;

/// The application as served: `per_request` around two routers, the
/// platform API's (its routes registered at `/atoms/v1`, without the
/// layers `Router::nest` puts on every route to strip the prefix from each
/// request's URI) and the rest; an `/atoms/v1` request goes to the first.
/// The per-request work wraps the whole router rather than each route (a
/// route layer costs a boxed clone of the route per request).
#[derive(Debug, Clone)]
pub struct App(Arc<Routes>);

#[derive(Debug)]
struct Routes {
    state: AppState,
    api: Limited,
    rest: Limited,
}

impl App {
    /// Serves `api` (platform routes, at `/atoms/v1`) and `rest`.
    pub(crate) fn new(state: AppState, api: Router, rest: Router) -> Self {
        let limit = DefaultBodyLimit::max(BODY_LIMIT);
        Self(Arc::new(Routes { state, api: limit.layer(api), rest: limit.layer(rest) }))
    }
}

impl Routes {
    async fn route(&self, req: Request) -> Response {
        let res =
            if is_api(req.uri().path()) { self.api.clone().call(req).await } else { self.rest.clone().call(req).await };
        res.unwrap_or_else(|never| match never {})
    }
}

impl Service<Request> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let app = Arc::clone(&self.0);
        Box::pin(async move { Ok(per_request(&app.state, req, |req| app.route(req)).await) })
    }
}

/// The per-request work (see the module doc): records `/atoms/v1`
/// requests in the journal around [`guarded`], which hands the request to
/// `next` (the router) unless a limit or a fault rule answers first.
pub(crate) async fn per_request<F, Fut>(s: &AppState, req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let api = is_api(req.uri().path());
    if !api || !s.journal.enabled() {
        return guarded(s, api, req, next).await;
    }
    let started = Instant::now();
    let at = s.store.clock().now();
    let (parts, body) = req.into_parts();
    let declared = content_length(&parts.headers);
    let (body, request_body) = match declared {
        // Refused before it is read (see `limits`): only its length is known.
        Some(n) if n > body_limit(parts.uri.path(), s.config.persistence.state_import_bytes) => {
            (body, Captured::prefix(&[], n))
        }
        _ => capture_request(body).await,
    };
    let method = parts.method.clone();
    let mut text = Text::request(parts.uri.path(), parts.uri.query(), bearer(&parts.headers), &parts.headers);
    let res = guarded(s, api, Request::from_parts(parts, body), next).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let fault = res.extensions().get::<FaultHit>().map(|h| h.0.clone());
    let (parts, body) = res.into_parts();
    let (body, response_body) = capture_response(&parts, body).await;
    text.respond(&parts.headers);
    s.journal.record(Entry {
        seq: 0,
        at,
        latency_ms,
        method,
        text,
        request_body,
        status: parts.status.as_u16(),
        response_body,
        fault,
    });
    Response::from_parts(parts, body)
}

/// Reads up to [`BODY_LIMIT`] bytes. A whole body is handed on as one
/// buffer; a longer one (or a read error) as the chunks read so far
/// followed by the rest of the stream, untouched.
async fn capture_request(mut body: Body) -> (Body, Captured) {
    if body.size_hint().exact() == Some(0) {
        return (body, Captured::default());
    }
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut size = 0;
    let mut pending = None;
    while size <= BODY_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => {
                let Ok(chunk) = frame.into_data() else { continue };
                size += chunk.len();
                if chunks.is_empty() && size <= BODY_LIMIT && body.is_end_stream() {
                    // The usual case, a body in one piece.
                    return whole_request(chunk);
                }
                chunks.push(chunk);
            }
            Some(Err(e)) => {
                pending = Some(Err(e));
                break;
            }
            None => return whole_request(concat(&chunks)),
        }
    }
    let mut kept = 0;
    let head = concat(chunks.iter().take_while(|c| {
        let before = kept;
        kept += c.len();
        before < BODY_CAPTURE
    }));
    let replay = futures_util::stream::iter(chunks.into_iter().map(Ok).chain(pending)).chain(body.into_data_stream());
    (Body::from_stream(replay), Captured::prefix(&head, size))
}

/// A whole request body, handed on and captured. The capture is a copy: a
/// one-chunk body is a slice of the connection's read buffer, which
/// sharing would keep alive (with every pipelined request read with it)
/// for as long as the entry.
fn whole_request(whole: Bytes) -> (Body, Captured) {
    let captured = Captured::new(&whole);
    (Body::from(whole), captured)
}

fn concat<'a>(chunks: impl IntoIterator<Item = &'a Bytes>) -> Bytes {
    let mut chunks = chunks.into_iter();
    let Some(first) = chunks.next() else { return Bytes::new() };
    let Some(second) = chunks.next() else { return first.clone() };
    let mut buf = BytesMut::from(&first[..]);
    buf.extend_from_slice(second);
    chunks.for_each(|c| buf.extend_from_slice(c));
    buf.freeze()
}

/// The body back, and its capture when it is a known-size buffer that is
/// not an event stream or an upgrade.
async fn capture_response(parts: &axum::http::response::Parts, body: Body) -> (Body, Option<Captured>) {
    let streamed = parts.status == StatusCode::SWITCHING_PROTOCOLS
        || parts.headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
        || body.size_hint().exact().is_none();
    if streamed {
        return (body, None);
    }
    let mut body = body;
    // A known-size body is one buffer: take it as it is.
    let first = match body.frame().await {
        None => Ok(Bytes::new()),
        Some(Ok(frame)) if body.is_end_stream() => Ok(frame.into_data().unwrap_or_default()),
        Some(frame) => {
            let rest = axum::body::to_bytes(body, usize::MAX).await;
            frame.and_then(|f| rest.map(|rest| concat([&f.into_data().unwrap_or_default(), &rest])))
        }
    };
    match first {
        Ok(bytes) => {
            let captured = Captured::shared(&bytes);
            (Body::from(bytes), Some(captured))
        }
        Err(_) => (Body::empty(), None),
    }
}

/// Everything inside the journal: the answer gets `x-request-id` and the
/// JSON charset; a panic below becomes a 500 envelope; an oversized head or
/// declared body is refused; past the memory limit, a write is refused
/// with 507 (`memory::MemoryLimit`); then fault rules (`api`: an
/// `/atoms/v1` path).
async fn guarded<F, Fut>(s: &AppState, api: bool, req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let checked = async move {
        if let Some(refusal) = limits::refusal(&req, s.config.persistence.state_import_bytes) {
            return refusal;
        }
        if let Some(in_use) = memory::grows(req.method(), req.uri().path()).then(|| s.memory.exceeded()).flatten() {
            return envelope(StatusCode::INSUFFICIENT_STORAGE, &memory::refusal_message(in_use, s.memory.limit()));
        }
        if api {
            faults(s, req, next).await
        } else {
            next(req).await
        }
    };
    let mut res = AssertUnwindSafe(checked).catch_unwind().await.unwrap_or_else(super::panic_response);
    super::stamp(&mut res);
    res
}

/// Applies the first firing fault rule to an `/atoms/v1` request (see the
/// module doc). Checked before auth: `apiKey` rules match the Bearer token
/// as sent, and rules without one also fault unauthenticated requests.
async fn faults<F, Fut>(s: &AppState, req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let rel = &req.uri().path()[API_PREFIX.len()..];
    let decision = s.faults.decide(req.method(), rel, bearer(req.headers()));
    let Some(d) = decision else {
        return next(req).await;
    };
    if d.delay_ms > 0 && !delay(s, d.delay_ms).await {
        return envelope(StatusCode::SERVICE_UNAVAILABLE, SHUTTING_DOWN);
    }
    let mut res = match d.status {
        Some(_) => fault_response(&d),
        None => next(req).await,
    };
    res.extensions_mut().insert(FaultHit(d.rule_id));
    res
}

/// Waits `ms` on the mock's clock; false if the server shuts down first.
async fn delay(s: &AppState, ms: u64) -> bool {
    let clock = s.store.clock();
    let deadline = clock.now().saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
    s.unless_shutdown(clock.sleep_until(deadline)).await.is_some()
}

fn fault_response(d: &Decision) -> Response {
    let status = d.status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (status, d.body.clone()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res.headers_mut().extend(d.headers.clone());
    res
}
