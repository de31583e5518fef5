//! One accepted connection: HTTP/1.1 (with upgrades) or HTTP/2 served by
//! hyper, plus the bounds hyper leaves to us.
//!
//! - **Header timeout.** From the first byte of a request head until the
//!   whole head is in; the connection is then dropped without an answer
//!   (there is no request to answer yet).
//! - **Idle timeout.** While no request is in flight (a request counts
//!   until its response body is fully sent, so SSE streams and long-polls
//!   are never idle); the connection is then dropped, like any keep-alive
//!   close.
//! - **Body timeout.** tower-http's `TimeoutBody` around each request body
//!   that is not empty: a stall longer than the limit fails the read, and
//!   the body extractors answer 408 (`crate::http::extract`).
//! - **Unread bodies are drained.** A handler that answers without
//!   reading the request body (an error before the body extractor, a
//!   fault rule, a route that ignores its body, a non-JSON body on
//!   `/atoms/v1`) leaves bytes on the socket. hyper then drops keep-alive
//!   and closes the connection, and a client that already queued its next
//!   request on it sees `Connection reset` or `Remote end closed
//!   connection`. The platform (Express) reads every body before it
//!   answers, so the connection stays usable; the mock does the same:
//!   after the handler, up to [`DRAIN_LIMIT`] unread bytes are read and
//!   dropped (within the body timeout, or [`DRAIN_WAIT`] without one)
//!   before the answer goes out.
//! - **Shutdown.** On the server's stop signal the connection shuts down
//!   gracefully: an idle one closes, an in-flight request finishes.
//!
//! hyper's own `header_read_timeout` is not used: it counts from the moment
//! a connection starts waiting for a request, so it would also cut idle
//! keep-alive connections at the (short) header limit.
//!
//! The socket carries a token of the server's open-connection count
//! ([`Watched`]); it lives as long as the socket, through a WebSocket
//! upgrade, so shutdown can wait for upgraded sessions too.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::http::transport::Served;
use axum::body::Body;
use axum::http::{Request, Response};
use bytes::Bytes;
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tower_http::timeout::TimeoutBody;

use crate::config::Transport;

/// Serves one connection until it closes, times out, or (after the stop
/// signal) finishes its in-flight requests. `open` is the connection's
/// token in the server's count of open sockets.
pub(super) async fn serve(
    tcp: TcpStream,
    app: Served,
    builder: Arc<Builder<TokioExecutor>>,
    transport: Transport,
    mut stop: watch::Receiver<bool>,
    open: mpsc::Sender<()>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { io: tcp, activity: Arc::clone(&activity), _open: open });
    let service = ConnService {
        app: parking_lot::Mutex::new(app),
        activity: Arc::clone(&activity),
        body_timeout: transport.body_timeout(),
    };
    let mut conn = pin!(builder.serve_connection_with_upgrades(io, service));
    let mut expired = pin!(activity.expired(transport.header_timeout(), transport.idle_timeout()));
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            // Dropping the connection closes the socket.
            () = &mut expired => return,
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// What the timeouts look at. Times are ms since `epoch`.
///
/// Nothing here wakes the watchdog ([`Activity::expired`]): a request
/// start or end only stores a time (a wake-up per request would poll the
/// connection's task again for nothing). The watchdog instead looks again
/// at least once per the shorter of the two limits, which is early enough
/// to see every deadline in time and sleep until exactly it.
#[derive(Debug)]
struct Activity {
    epoch: Instant,
    /// Requests whose response body has not been dropped yet.
    in_flight: AtomicU32,
    /// When the last request finished (or the connection opened).
    idle_since: AtomicU64,
    /// 1 + when the first byte of a request head arrived, while that
    /// head is incomplete; 0 otherwise.
    head_since: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            in_flight: AtomicU32::new(0),
            idle_since: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Bytes arrived: with no request in flight, they start a head.
    fn bytes_read(&self) {
        if self.in_flight.load(Relaxed) == 0 && self.head_since.load(Relaxed) == 0 {
            self.head_since.store(self.now_ms() + 1, Relaxed);
        }
    }

    /// When the connection should be dropped, if nothing changes first.
    fn deadline(&self, header: Option<Duration>, idle: Option<Duration>) -> Option<Instant> {
        if self.in_flight.load(Relaxed) > 0 {
            return None;
        }
        let (since, limit) = match self.head_since.load(Relaxed) {
            0 => (self.idle_since.load(Relaxed), idle?),
            head => (head - 1, header?),
        };
        Some(self.epoch + Duration::from_millis(since) + limit)
    }

    /// Completes once the connection has been idle, or inside a request
    /// head, for longer than its limit. A deadline that appears (a head
    /// starts, the last request ends) is at least one `period` away from
    /// its start, so the next look, at most one `period` later, finds it
    /// before it is due.
    async fn expired(&self, header: Option<Duration>, idle: Option<Duration>) {
        let Some(period) = header.into_iter().chain(idle).min() else {
            return std::future::pending().await;
        };
        let mut sleep = pin!(tokio::time::sleep(Duration::ZERO));
        loop {
            let now = Instant::now();
            let next_look = now + period;
            let wake = match self.deadline(header, idle) {
                Some(at) if at <= now => return,
                Some(at) => at.min(next_look),
                None => next_look,
            };
            sleep.as_mut().reset(wake);
            sleep.as_mut().await;
        }
    }
}

/// One request in flight, from the call until its response body is
/// dropped (fully sent, or the connection closed).
#[derive(Debug)]
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Relaxed);
        activity.head_since.store(0, Relaxed);
        Self(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Relaxed) == 1 {
            self.0.idle_since.store(self.0.now_ms(), Relaxed);
        }
    }
}

/// The socket, noting when bytes arrive; `_open` is dropped with it.
#[derive(Debug)]
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
    _open: mpsc::Sender<()>,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.bytes_read();
        }
        res
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Most unread request-body bytes drained after an answer (1 MiB, the
/// JSON body limit); a longer remainder lets hyper close the connection.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// Longest wait for an unread body when no body timeout is set.
const DRAIN_WAIT: Duration = Duration::from_secs(10);

/// A request body handed to the app through a shared slot, so the
/// connection can find (and drain) what the app left unread. The slot
/// empties when the body ends.
#[derive(Debug, Clone)]
struct Unread(Arc<parking_lot::Mutex<Option<Timed>>>);

/// A request body under the body timeout (`limit`; none without one):
/// tower-http's `TimeoutBody`, put around the body at the first read that
/// has to wait. Reads whose data is already there (a body that came with
/// its head) neither arm nor clear a timer; from the first wait on, every
/// read is timed by `TimeoutBody` exactly as before, from that read.
struct Timed {
    /// The body while no read has waited.
    body: Option<Incoming>,
    limit: Option<Duration>,
    /// The body under `TimeoutBody` once a read waited.
    timed: Option<Pin<Box<TimeoutBody<Incoming>>>>,
}

impl std::fmt::Debug for Timed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timed").field("limit", &self.limit).field("waited", &self.timed.is_some()).finish()
    }
}

impl hyper::body::Body for Timed {
    type Data = Bytes;
    type Error = tower::BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, tower::BoxError>>> {
        let this = self.get_mut();
        if let Some(body) = this.body.as_mut() {
            if let Poll::Ready(frame) = Pin::new(body).poll_frame(cx) {
                return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
            }
            let Some(limit) = this.limit else { return Poll::Pending };
            let Some(body) = this.body.take() else { return Poll::Pending };
            this.timed = Some(Box::pin(TimeoutBody::new(limit, body)));
        }
        this.timed.as_mut().map_or(Poll::Ready(None), |t| t.as_mut().poll_frame(cx))
    }

    fn is_end_stream(&self) -> bool {
        match (&self.body, &self.timed) {
            (Some(body), _) => body.is_end_stream(),
            (None, Some(timed)) => timed.is_end_stream(),
            (None, None) => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.body, &self.timed) {
            (Some(body), _) => body.size_hint(),
            (None, Some(timed)) => timed.size_hint(),
            (None, None) => SizeHint::with_exact(0),
        }
    }
}

impl hyper::body::Body for Unread {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut slot = self.0.lock();
        let Some(body) = slot.as_mut() else { return Poll::Ready(None) };
        let next = Pin::new(body).poll_frame(cx).map_err(axum::Error::new);
        // Ended or failed (stalled past the body timeout): nothing to drain.
        if matches!(next, Poll::Ready(None | Some(Err(_)))) {
            *slot = None;
        }
        next
    }

    fn is_end_stream(&self) -> bool {
        self.0.lock().as_ref().is_none_or(hyper::body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.0.lock().as_ref().map_or_else(|| SizeHint::with_exact(0), hyper::body::Body::size_hint)
    }
}

impl Unread {
    /// Whether part of the body is still unread.
    fn pending(&self) -> bool {
        self.0.lock().is_some()
    }

    /// Reads and drops what is left of the body, up to [`DRAIN_LIMIT`]
    /// bytes and `wait`; a body that errs, stalls or runs longer is left
    /// for hyper to close the connection on.
    async fn drain(self, wait: Duration) {
        use http_body_util::BodyExt;
        let Some(mut body) = self.0.lock().take() else { return };
        let _ = tokio::time::timeout(wait, async {
            let mut left = DRAIN_LIMIT;
            while let Some(Ok(frame)) = body.frame().await {
                let n = frame.data_ref().map_or(0, Bytes::len);
                let Some(rest) = left.checked_sub(n) else { return };
                left = rest;
            }
        })
        .await;
    }
}

/// Whether an unread body of a request with these headers is drained: not
/// when the client waits for `100 Continue` (nothing is on its way unless
/// the server asks, and it must not ask after refusing) and not when the
/// declared length is over [`DRAIN_LIMIT`] (a 413 answers at once).
fn drainable(headers: &axum::http::HeaderMap) -> bool {
    let expects_continue =
        headers.get(axum::http::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    !expects_continue && crate::http::extract::content_length(headers).is_none_or(|n| n <= DRAIN_LIMIT)
}

/// The app as hyper calls it: counts requests in flight, puts the body
/// timeout around request bodies that are not empty, and drains what the
/// app leaves of them unread before answering. One per connection: it
/// calls its own copy of the app (behind an uncontended lock, since hyper
/// calls through `&self`) instead of cloning the app for every request,
/// and its future ([`Answer`]) is not boxed.
#[derive(Debug)]
struct ConnService {
    app: parking_lot::Mutex<Served>,
    activity: Arc<Activity>,
    body_timeout: Option<Duration>,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, req: Request<Incoming>) -> Answer {
        let in_flight = InFlight::begin(&self.activity);
        let mut unread = None;
        let drainable = drainable(req.headers());
        let req = req.map(|body| {
            if body.is_end_stream() || !drainable {
                return Body::new(body);
            }
            let body = Timed { body: Some(body), limit: self.body_timeout, timed: None };
            let slot = Unread(Arc::new(parking_lot::Mutex::new(Some(body))));
            unread = Some(slot.clone());
            Body::new(slot)
        });
        let answer = {
            let mut app = self.app.lock();
            // Every layer of the app is always ready (see `transport::stack`).
            let ready = tower::Service::poll_ready(&mut *app, &mut Context::from_waker(std::task::Waker::noop()));
            debug_assert!(ready.is_ready());
            tower::Service::call(&mut *app, req)
        };
        let wait = self.body_timeout.unwrap_or(DRAIN_WAIT);
        Answer { answer, unread, wait, draining: None, in_flight: Some(in_flight) }
    }
}

/// [`Unread::drain`] in progress.
type Drain = Pin<Box<dyn Future<Output = ()> + Send>>;

/// [`ConnService`]'s future: the app's answer, then (only when the app
/// left some of the request body unread) the drain.
struct Answer {
    answer: <Served as tower::Service<Request<Body>>>::Future,
    unread: Option<Unread>,
    wait: Duration,
    draining: Option<(Drain, Response<Body>)>,
    in_flight: Option<InFlight>,
}

impl Answer {
    fn tracked(&mut self, res: Response<Body>) -> Response<Tracked> {
        let in_flight = self.in_flight.take();
        res.map(|body| Tracked { body, _in_flight: in_flight })
    }
}

impl Future for Answer {
    type Output = Result<Response<Tracked>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some((drain, _)) = this.draining.as_mut() {
            std::task::ready!(drain.as_mut().poll(cx));
            let res = this.draining.take().map(|(_, res)| res).unwrap_or_default();
            return Poll::Ready(Ok(this.tracked(res)));
        }
        let res = std::task::ready!(Pin::new(&mut this.answer).poll(cx))?;
        match this.unread.take().filter(Unread::pending) {
            None => Poll::Ready(Ok(this.tracked(res))),
            Some(unread) => {
                this.draining = Some((Box::pin(unread.drain(this.wait)), res));
                Pin::new(this).poll(cx)
            }
        }
    }
}

/// A response body that keeps its request counted as in flight.
#[derive(Debug)]
struct Tracked {
    body: Body,
    _in_flight: Option<InFlight>,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Option<Duration> = Some(Duration::from_secs(1));
    const MIN: Option<Duration> = Some(Duration::from_secs(60));

    #[test]
    fn an_idle_connection_is_due_at_the_idle_limit_and_a_started_head_at_the_header_limit() {
        let a = Arc::new(Activity::new());
        assert_eq!(a.deadline(SEC, MIN), Some(a.epoch + Duration::from_secs(60)));
        a.head_since.store(1 + 500, Relaxed);
        assert_eq!(a.deadline(SEC, MIN), Some(a.epoch + Duration::from_millis(1500)));
        assert_eq!(a.deadline(None, MIN), None, "no header limit");
    }

    #[test]
    fn a_request_in_flight_has_no_deadline_until_its_response_is_dropped() {
        let a = Arc::new(Activity::new());
        a.head_since.store(1, Relaxed);
        let req = InFlight::begin(&a);
        assert_eq!(a.head_since.load(Relaxed), 0, "the head is complete");
        a.bytes_read();
        assert_eq!((a.deadline(SEC, MIN), a.head_since.load(Relaxed)), (None, 0), "body bytes start no head");
        drop(req);
        assert!(a.deadline(SEC, MIN).is_some_and(|d| d >= a.epoch + Duration::from_secs(60)));
        a.bytes_read();
        assert_ne!(a.head_since.load(Relaxed), 0, "the next head started");
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_fires_at_the_idle_limit_and_a_request_postpones_it() {
        let a = Arc::new(Activity::new());
        let started = Instant::now();
        let req = InFlight::begin(&a);
        let watchdog = {
            let a = Arc::clone(&a);
            tokio::spawn(async move { a.expired(SEC, MIN).await })
        };
        tokio::time::advance(Duration::from_secs(120)).await;
        assert!(!watchdog.is_finished(), "a request is in flight");
        drop(req);
        watchdog.await.expect("watchdog");
        assert!(Instant::now() - started >= Duration::from_secs(180));
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_started_between_two_looks_times_out_at_the_header_limit() {
        let a = Arc::new(Activity::new());
        let started = Instant::now();
        let watchdog = {
            let a = Arc::clone(&a);
            tokio::spawn(async move { a.expired(SEC, MIN).await })
        };
        tokio::time::advance(Duration::from_millis(2500)).await;
        assert!(!watchdog.is_finished(), "idle for 2.5 s of 60");
        a.bytes_read();
        watchdog.await.expect("watchdog");
        assert_eq!(Instant::now() - started, Duration::from_millis(3500), "2.5 s + the 1 s header limit");
    }
}
