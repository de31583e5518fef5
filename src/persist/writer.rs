//! [`Persister`]: keeps the state file up to date while the mock runs.
//!
//! Every `--snapshot-interval-secs` (wall-clock time, whatever the mock's
//! clock) it looks at `Store::changes`; when the number moved since the
//! last write, it takes a snapshot and streams it on a blocking thread to
//! the temporary file through a 64 KiB buffer (memory does not grow with
//! the file's size), which replaces the file atomically unless its bytes
//! hash the same as the last ones written (reads count as possible
//! changes). [`Persister::close`], called after
//! the server has drained its connections, stops the loop and writes the
//! final snapshot. One write runs at a time.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use super::{snapshot, write_json_atomic};
use crate::state::AppState;

/// What the last write wrote: the change count it covered and a hash of
/// its bytes.
#[derive(Debug, Default)]
struct Written {
    changes: Option<u64>,
    hash: Option<u64>,
}

/// The state file's writer (see the module doc).
#[derive(Debug)]
pub struct Persister {
    state: AppState,
    path: PathBuf,
    interval: Duration,
    written: Mutex<Written>,
    stop: watch::Sender<bool>,
    task: parking_lot::Mutex<Option<JoinHandle<()>>>,
}

impl Persister {
    /// A writer of `state` to `path`, every `interval` at most.
    pub fn new(state: AppState, path: PathBuf, interval: Duration) -> Self {
        Self {
            state,
            path,
            interval,
            written: Mutex::new(Written::default()),
            stop: watch::channel(false).0,
            task: parking_lot::Mutex::new(None),
        }
    }

    /// The file written.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Starts the periodic writes.
    pub fn spawn(self: &Arc<Self>) {
        let me = Arc::clone(self);
        let mut stop = self.stop.subscribe();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    () = tokio::time::sleep(me.interval) => {}
                }
                if let Err(e) = me.save(false).await {
                    tracing::error!(path = %me.path.display(), error = %e, "writing the state file failed");
                }
            }
        });
        *self.task.lock() = Some(task);
    }

    /// Writes a snapshot if the state may have changed since the last
    /// write (always with `force`) and its bytes differ from the file's.
    /// Returns whether the file was written.
    pub async fn save(&self, force: bool) -> std::io::Result<bool> {
        let mut written = self.written.lock().await;
        let changes = self.state.store.changes();
        if !force && written.changes == Some(changes) {
            return Ok(false);
        }
        let (state, path, last) = (self.state.clone(), self.path.clone(), written.hash);
        let (hash, _) = tokio::task::spawn_blocking(move || write_json_atomic(&path, &snapshot(&state), last))
            .await
            .map_err(std::io::Error::other)??;
        let wrote = written.hash != Some(hash);
        *written = Written { changes: Some(changes), hash: Some(hash) };
        Ok(wrote)
    }

    /// Stops the periodic writes and writes the final snapshot (graceful
    /// shutdown).
    pub async fn close(&self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        let task = self.task.lock().take();
        if let Some(t) = task {
            let _ = t.await;
        }
        self.save(true).await.map(drop)
    }
}
