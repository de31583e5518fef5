//! Giving freed memory back to the operating system after
//! `POST /_admin/reset`.
//!
//! A reset drops every object it forgets, but the allocator keeps the freed
//! pages (dirty pages) for reuse, so a server that held 100k agents would
//! keep that resident size for good. The library cannot know which
//! allocator the process runs, so the binary installs the release step
//! once at start ([`set_release_hook`]; `src/main.rs` purges jemalloc's
//! arenas) and the reset handler runs it through [`release`]. Without a
//! hook (tests, embedders) [`release`] does nothing.

use std::sync::OnceLock;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Installs the process's release step. Only the first call takes effect
/// (the allocator is per process); returns whether this call installed it.
pub fn set_release_hook(f: fn()) -> bool {
    RELEASE.set(f).is_ok()
}

/// Runs the installed release step off the async workers (a purge of a
/// few hundred MiB takes tens of milliseconds) and waits for it; returns
/// at once when none is installed.
pub async fn release() {
    if let Some(f) = RELEASE.get().copied() {
        if let Err(e) = tokio::task::spawn_blocking(f).await {
            tracing::warn!("releasing memory failed: {e}");
        }
    }
}
