//! `Server`: runs the app on a listener the caller provides, so the binary,
//! the tests and embedding users share one code path. Dropping the server
//! (or calling [`Server::shutdown`]) stops it gracefully.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    shutdown: Arc<watch::Sender<bool>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
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
        let mut rx = shutdown.subscribe();
        let app = crate::http::transport::stack(crate::http::app(state.clone()), &state.config.cors);
        let app = axum::ServiceExt::<axum::extract::Request>::into_make_service(app);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await
        });
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

    /// Signals shutdown and waits for open connections and the webhook
    /// dispatcher to finish (in-flight deliveries are abandoned).
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        if let Some(w) = self.webhooks.take() {
            let _ = w.await;
        }
        match self.task.take() {
            Some(t) => t.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
