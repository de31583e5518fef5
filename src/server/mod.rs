//! `Server`: runs the app on a listener the caller provides, so the binary,
//! the tests and embedding users share one code path. Dropping the server
//! (or calling [`Server::shutdown`]) stops it gracefully.
//!
//! Connections are served by hyper directly (HTTP/1.1 with upgrades, and
//! HTTP/2), with the bounds of [`Transport`]: header, body and idle
//! timeouts per connection (`conn`) and a grace period on shutdown.
//!
//! Shutdown, in order: the listener closes; every connection shuts down
//! gracefully (idle ones close, in-flight requests finish); the state's
//! shutdown signal ends SSE streams (`sse_close`), realtime WebSocket
//! sessions (`session.closed`, close 1001) and long-polls (503 in the
//! envelope). Once every socket is closed, or the grace period is over,
//! the remaining connections are dropped and [`Server::shutdown`] returns.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::http::transport::Served;
use axum::serve::Listener;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::state::AppState;

mod conn;

pub use crate::config::Transport;

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    shutdown: Arc<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
    webhooks: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `state` on `listener` in a background task.
    pub fn start(listener: TcpListener, state: AppState) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        state.store.clock().spawn_driver();
        let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
        state.calls.set_public_url(format!("http://{host}:{}", addr.port()));
        let webhooks = Some(state.webhooks.start());
        let shutdown = Arc::clone(&state.shutdown);
        let app = crate::http::transport::stack(crate::http::app(state.clone()), &state.config.cors);
        let task = tokio::spawn(serve(listener, app, state.config.transport, shutdown.subscribe()));
        Ok(Self { addr, state, shutdown, task: Some(task), webhooks })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT/atoms/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, crate::http::API_PREFIX)
    }

    /// The shared state (store, clock, fixtures).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Shuts down (see the module doc) and waits, at most the grace period
    /// (`--shutdown-grace-secs`) for connections plus the webhook
    /// dispatcher's stop (in-flight deliveries are abandoned).
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        if let Some(w) = self.webhooks.take() {
            let _ = w.await;
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// The hyper connection builder shared by every connection.
fn builder() -> Builder<TokioExecutor> {
    let mut b = Builder::new(TokioExecutor::new());
    // Extended CONNECT, for WebSockets over HTTP/2 (as `axum::serve`).
    b.http2().enable_connect_protocol();
    b
}

/// Accepts until `stop`, then drains within the grace period.
async fn serve(mut listener: TcpListener, app: Served, transport: Transport, stop: watch::Receiver<bool>) {
    let builder = Arc::new(builder());
    // Each socket holds a sender; `recv` gives `None` once all are gone.
    let (open, mut all_closed) = mpsc::channel::<()>(1);
    let mut conns = JoinSet::new();
    let mut stopping = stop.clone();
    loop {
        tokio::select! {
            // axum's `Listener` retries on accept errors (such as EMFILE).
            (tcp, _) = Listener::accept(&mut listener) => {
                let (app, builder, stop, open) = (app.clone(), Arc::clone(&builder), stop.clone(), open.clone());
                conns.spawn(conn::serve(tcp, app, builder, transport, stop, open));
            }
            Some(_) = conns.join_next() => {}
            _ = stopping.wait_for(|stop| *stop) => break,
        }
    }
    drop(listener);
    drop(open);
    let drained = async {
        while conns.join_next().await.is_some() {}
        let _ = all_closed.recv().await;
    };
    if tokio::time::timeout(transport.shutdown_grace(), drained).await.is_err() {
        tracing::warn!(open = conns.len(), "shutdown grace period over: dropping open connections");
    }
    conns.shutdown().await;
}
